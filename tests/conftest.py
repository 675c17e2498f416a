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
from tests.mfa import verified_token

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
    #: The user whose every request carries a token minted just before it, i.e. who has
    #: just passed the SMS step (tests/mfa.py); ``None`` leaves authentication as set.
    verified_user: Any = None

    def generic(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if self.verified_user is not None:
            # Tests move the clock far and wide; the token is as fresh as the request.
            self.force_authenticate(self.verified_user, token=verified_token())
        with self.capture(execute=True):
            return super().generic(*args, **kwargs)


@pytest.fixture
def api(user: Any, django_capture_on_commit_callbacks: Any) -> CommittingClient:
    """A JSON client signed in as ``user``, who has just passed the SMS step."""
    client = CommittingClient()
    client.capture = django_capture_on_commit_callbacks
    client.verified_user = user
    return client


@pytest.fixture
def anon_api(db: Any, django_capture_on_commit_callbacks: Any) -> CommittingClient:
    client = CommittingClient()
    client.capture = django_capture_on_commit_callbacks
    return client


@pytest.fixture
def client_for(django_capture_on_commit_callbacks: Any) -> Callable[[Any], CommittingClient]:
    """Build a signed-in client (SMS step passed now) for another user."""

    def build(someone: Any) -> CommittingClient:
        client = CommittingClient()
        client.capture = django_capture_on_commit_callbacks
        client.verified_user = someone
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
