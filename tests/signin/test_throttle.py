"""Failed password attempts are limited per username and per IP (CONTRACT §4).

Defaults: 5 failures per username and 20 per IP in any 15 minutes. While a limit holds
even the right password is refused, with the same answer whether or not the account
exists, naming the real wait.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client

from intelliauth_sms.models import AuditEvent, AuthFlow, EventType
from intelliauth_sms.services import password_attempts
from tests.factories import UserFactory
from tests.signin.conftest import (
    AFTER_SIGN_IN,
    PASSWORD,
    flow_of,
    login_error,
    sign_in,
    signed_in_user_id,
)

THROTTLED_15 = "Too many sign-in attempts. Wait 15 minutes, then try again."
INVALID_LOGIN = "Please enter a correct username and password."

pytestmark = pytest.mark.usefixtures("clock")


def fail(client: Client, times: int, username: str = "alice") -> None:
    for _ in range(times):
        response = sign_in(client, username, "wrong password")
        assert login_error(response).startswith(INVALID_LOGIN), login_error(response)


def page_without_tokens(response: Any) -> str:
    """The page with what legitimately differs between two requests taken out."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'name="username" id="id_username"(.*?)value="[^"]*"', "", html, flags=re.S)


# --- per username ------------------------------------------------------------------


def test_five_failures_refuse_the_right_password_for_fifteen_minutes(
    client: Client, user: Any, clock: Any
) -> None:
    fail(client, 5)

    response = sign_in(client)

    assert response.status_code == 200
    assert login_error(response) == THROTTLED_15
    assert signed_in_user_id(client) is None
    clock.shift(14 * 60 + 59)
    wait_1 = "Too many sign-in attempts. Wait 1 minute, then try again."
    assert login_error(sign_in(client)) == wait_1
    clock.shift(1)
    assert sign_in(client)["Location"] == AFTER_SIGN_IN


def test_the_wait_named_is_the_real_one(client: Client, user: Any, clock: Any) -> None:
    fail(client, 4)
    clock.shift(10 * 60)
    fail(client, 1)

    # The first four leave the window 15 minutes after they were made: 5 minutes from now.
    assert login_error(sign_in(client)) == (
        "Too many sign-in attempts. Wait 5 minutes, then try again."
    )
    clock.shift(5 * 60)
    assert sign_in(client)["Location"] == AFTER_SIGN_IN


def test_a_user_with_a_phone_gets_no_sms_step_while_limited(
    client: Client, enrolled: Any, outbox: list[Any]
) -> None:
    fail(client, 5)

    response = sign_in(client)

    assert login_error(response) == THROTTLED_15
    assert AuthFlow.objects.count() == 0
    assert outbox == []


def test_an_unknown_username_is_answered_exactly_like_an_account(db: Any, user: Any) -> None:
    known, unknown = Client(REMOTE_ADDR="192.0.2.1"), Client(REMOTE_ADDR="192.0.2.2")
    answers: dict[str, list[str]] = {"alice": [], "nobody": []}
    for _ in range(6):
        for client, username in ((known, "alice"), (unknown, "nobody")):
            response = sign_in(client, username, "wrong password")
            assert response.status_code == 200
            answers[username].append(page_without_tokens(response))

    assert answers["alice"] == answers["nobody"]
    assert THROTTLED_15 in answers["nobody"][-1]
    assert INVALID_LOGIN in answers["nobody"][0]


def test_the_username_is_counted_case_and_space_insensitively(client: Client, user: Any) -> None:
    for typed in ("alice", "ALICE", " Alice", "alice ", "aLiCe"):
        sign_in(client, typed, "wrong password")

    assert login_error(sign_in(client)) == THROTTLED_15


def test_one_usernames_failures_do_not_limit_another(client: Client, user: Any) -> None:
    UserFactory(username="bob")
    fail(client, 5, "alice")

    assert sign_in(client, "bob")["Location"] == AFTER_SIGN_IN


def test_the_right_password_clears_the_usernames_count(client: Client, user: Any) -> None:
    fail(client, 4)
    assert sign_in(client)["Location"] == AFTER_SIGN_IN
    client.logout()

    fail(client, 4)

    assert sign_in(client)["Location"] == AFTER_SIGN_IN


def test_the_limit_follows_the_settings(client: Client, user: Any, settings: Any) -> None:
    settings.INTELLIAUTH_SMS = {
        **settings.INTELLIAUTH_SMS,
        "SIGN_IN_FAILURES_PER_USERNAME": "2/1h",
    }
    fail(client, 2)

    assert login_error(sign_in(client)) == (
        "Too many sign-in attempts. Wait 60 minutes, then try again."
    )

    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "SIGN_IN_FAILURES_PER_USERNAME": None}
    assert sign_in(client)["Location"] == AFTER_SIGN_IN


# --- per IP --------------------------------------------------------------------------


def test_twenty_failures_from_one_ip_refuse_every_username_there(db: Any, user: Any) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for index in range(20):
        fail(attacker, 1, f"guess{index}")

    from_there = sign_in(attacker)
    from_elsewhere = sign_in(Client(REMOTE_ADDR="203.0.113.8"))

    assert login_error(from_there) == THROTTLED_15
    assert from_elsewhere["Location"] == AFTER_SIGN_IN


def test_a_success_does_not_clear_the_ips_count(db: Any, user: Any) -> None:
    UserFactory(username="bob")
    browser = Client(REMOTE_ADDR="203.0.113.7")
    for index in range(19):
        fail(browser, 1, f"guess{index}")
    assert sign_in(browser, "bob")["Location"] == AFTER_SIGN_IN  # the 20th place, given back
    browser.logout()

    fail(browser, 1, "guess-last")

    assert login_error(sign_in(browser)) == THROTTLED_15


def test_requests_without_a_usable_address_share_one_count(db: Any, user: Any) -> None:
    for index in range(20):
        fail(Client(REMOTE_ADDR=f"not-an-ip-{index}"), 1, f"guess{index}")

    assert login_error(sign_in(Client(REMOTE_ADDR=""))) == THROTTLED_15


# --- privacy and audit ---------------------------------------------------------------


def test_the_cache_holds_no_username_and_no_address(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = caches["default"]
    written: list[str] = []
    for name in ("add", "set", "incr", "decr", "get_many", "delete_many"):
        original = getattr(cache, name)

        def spy(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            written.append(repr((args, kwargs)))
            return _original(*args, **kwargs)

        monkeypatch.setattr(cache, name, spy)
    browser = Client(REMOTE_ADDR="203.0.113.77")

    fail(browser, 5, "Zebedee")
    sign_in(browser, "Zebedee")

    seen = " ".join(written)
    assert "password-attempts" in seen  # the counts went through the cache ...
    assert "zebedee" not in seen.casefold()  # ... named by keyed hashes only
    assert "203.0.113.77" not in seen


def test_refused_and_throttled_attempts_are_audited_without_the_username(
    db: Any, user: Any
) -> None:
    browser = Client(REMOTE_ADDR="203.0.113.9")
    fail(browser, 5, "alice")
    fail(browser, 1, "Zebedee")
    sign_in(browser)

    events = list(AuditEvent.objects.filter(event_type=EventType.PASSWORD_REFUSED).order_by("pk"))
    assert [event.failure_code for event in events] == ["invalid_credentials"] * 6 + [
        "rate_limited"
    ]
    assert [event.user for event in events] == [user] * 5 + [None, user]
    assert all(event.ip_address == "203.0.113.9" for event in events)
    assert events[-1].detail["limits"] == ["username"]
    for event in events:
        text = str(event.detail).casefold()
        assert "zebedee" not in text and "alice" not in text and PASSWORD not in text
    # The same username, typed differently, is recognisable to support as the same one.
    assert events[0].detail["username_key"] == events[-1].detail["username_key"]


def test_a_malformed_rate_setting_names_itself(settings: Any) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "SIGN_IN_FAILURES_PER_IP": "lots"}

    with pytest.raises(Exception, match="SIGN_IN_FAILURES_PER_IP"):
        password_attempts.check(None, "alice")


def test_the_service_counts_attempts_for_other_callers(db: Any) -> None:
    """The account-recovery re-proof reuses the module: check, record_failure, reset."""
    for _ in range(5):
        password_attempts.record_failure(password_attempts.check(None, "carol"))

    with pytest.raises(password_attempts.SignInThrottled) as refused:
        password_attempts.check(None, "Carol")
    assert refused.value.code == "rate_limited" and refused.value.retry_after == 900

    password_attempts.reset("carol")
    # The shared no-address IP count still holds 5 of its 20: the username is free again.
    password_attempts.record_success(password_attempts.check(None, "carol"))


def test_a_flow_is_started_only_after_the_limits_pass(client: Client, enrolled: Any) -> None:
    fail(client, 4)

    assert flow_of(sign_in(client)).user == enrolled.user
