"""Fixtures of the translation tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _restore_language() -> Iterator[None]:
    """LocaleMiddleware activates a request's language and leaves it active in the thread:
    put the previous one back so a French request cannot leak into later tests."""
    with translation.override(translation.get_language()):
        yield
