"""An unexpected error inside the API's own machinery surfaces as itself (issue 7 finding).

A site whose cache needs the ``redis`` package it has not installed used to get a 500
buried under "'Request' object has no attribute 'accepted_renderer'".
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches

from tests.api import factors_url


class CacheWithoutItsLibrary:
    """Stands for a cache backend whose client library is missing."""

    def __getattr__(self, name: str) -> Any:
        raise ModuleNotFoundError("No module named 'redis'")


def test_an_error_in_the_flood_guard_is_raised_as_itself(
    api: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.DEBUG = True  # DRF reads the negotiated renderer to format DEBUG tracebacks
    monkeypatch.setattr("django_ratelimit.core.caches", {"default": CacheWithoutItsLibrary()})
    with pytest.raises(ModuleNotFoundError, match="redis"):
        api.get(factors_url())


def test_the_flood_guard_still_answers_the_contract_json_with_retry_after(
    api: Any, settings: Any
) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "REQUEST_RATE": "1/m"}
    assert api.get(factors_url()).status_code == 200
    refused = api.get(factors_url())
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) == refused.json()["error"]["retry_after"] > 0
    assert caches["default"] is not None
