"""Shared fixtures: an API client per user, the SMS outbox, and helpers to read codes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from intelliauth_sms.backends import locmem
from intelliauth_sms.services import codes
from tests.factories import UserFactory

CODE_IN_SMS = re.compile(r"\b(\d{6})\b")


@pytest.fixture(autouse=True)
def _clean_outbox_and_caches() -> Iterator[None]:
    locmem.outbox.clear()
    for cache in caches.all():
        cache.clear()
    yield
    locmem.outbox.clear()


@pytest.fixture
def outbox() -> list[Any]:
    """The locmem backend's outbox (cleared for each test)."""
    return locmem.outbox


def last_code(outbox: list[Any]) -> str:
    """The code in the newest SMS."""
    match = CODE_IN_SMS.search(outbox[-1].body)
    assert match, "no code in the last SMS"
    return match.group(1)


@pytest.fixture
def user(db: Any) -> Any:
    return UserFactory(username="alice")


@pytest.fixture
def other_user(db: Any) -> Any:
    return UserFactory(username="mallory")


class CommittingClient(APIClient):
    """An API client whose requests run their ``on_commit`` callbacks, as in production.

    Tests run inside a transaction that never commits; without this the delivery task
    (enqueued on commit) would never run.
    """

    capture: Callable[..., Any]

    def generic(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        with self.capture(execute=True):
            return super().generic(*args, **kwargs)


@pytest.fixture
def api(user: Any, django_capture_on_commit_callbacks: Any) -> CommittingClient:
    """A JSON client signed in as ``user``."""
    client = CommittingClient()
    client.capture = django_capture_on_commit_callbacks
    client.force_authenticate(user)
    return client


@pytest.fixture
def anon_api(db: Any, django_capture_on_commit_callbacks: Any) -> CommittingClient:
    client = CommittingClient()
    client.capture = django_capture_on_commit_callbacks
    return client


@pytest.fixture
def client_for(django_capture_on_commit_callbacks: Any) -> Callable[[Any], CommittingClient]:
    """Build a signed-in client for another user."""

    def build(someone: Any) -> CommittingClient:
        client = CommittingClient()
        client.capture = django_capture_on_commit_callbacks
        client.force_authenticate(someone)
        return client

    return build


@pytest.fixture
def scripted_codes(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make the CSPRNG return the given codes, in order (for tests that need distinct codes)."""

    def script(*values: str) -> None:
        queue = [int(v) for v in values]

        def randbelow(n: int) -> int:
            assert n == 10**6
            return queue.pop(0)

        monkeypatch.setattr(codes.secrets, "randbelow", randbelow)

    return script
