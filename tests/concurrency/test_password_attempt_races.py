"""Password-attempt limits under concurrency, on Redis (CONTRACT §2: limits are atomic).

Each attempt takes its place in the cache count (``cache.add`` / ``cache.incr``) before the
password is checked, so requests racing from several processes never get more password
checks through than the limit. Under a race some may be refused early (a place taken by an
attempt that is then given back); never more admitted.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from intelliauth_sms.exceptions import SignInThrottled
from intelliauth_sms.services import password_attempts
from tests.concurrency.conftest import run_concurrently
from tests.factories import UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 16


def wrong_password(address: str) -> Any:
    """One wrong password for ``alice`` from ``address``: True if it was let through."""
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=address)
    try:
        attempt = password_attempts.check(request, "alice")
    except SignInThrottled:
        return False
    password_attempts.record_failure(attempt)
    return True


def test_racing_wrong_passwords_never_get_past_the_username_limit() -> None:
    UserFactory(username="alice")

    admitted = sum(run_concurrently(THREADS, lambda i: wrong_password(f"198.51.100.{i}")))

    # Each attempt's place is the count its atomic increment reached: exactly the first
    # five get through, however the burst interleaves (never none, never six).
    assert admitted == 5
    # The refused ones gave their places back without freeing a sixth.
    assert not wrong_password("198.51.100.201")


def test_racing_wrong_passwords_never_get_past_the_ip_limit(settings: Any) -> None:
    settings.INTELLIAUTH_SMS = {
        **settings.INTELLIAUTH_SMS,
        "SIGN_IN_FAILURES_PER_USERNAME": None,
        "SIGN_IN_FAILURES_PER_IP": "4/15m",
    }
    UserFactory(username="alice")

    admitted = sum(run_concurrently(THREADS, lambda _i: wrong_password("198.51.100.9")))

    assert admitted == 4
    assert not wrong_password("198.51.100.9")
