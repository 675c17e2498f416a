"""Re-proof before any recovery SMS: one answer for every failure, in the same time, limited."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from intelliauth_sms.models import AuditEvent, AuthFlow, SmsFactor, TenantPolicy
from intelliauth_sms.services.security_answers import set_answers
from tests.recovery import PASSWORD, RECOVERY_URL, error_of, start

INVALID = {
    "code": "invalid_credentials",
    "message": "The details you entered don't match our records.",
}
ANSWERS = {"first-school": "St. Mary's", "childhood-street": "Rue de l'Église"}


@pytest.fixture
def answers_required(policy: TenantPolicy, user: Any) -> None:
    policy.recovery_requires_security_answers = True
    policy.save()
    set_answers(user, ANSWERS)


FAILURES: dict[str, Callable[[Any], Any]] = {
    "unknown username": lambda api: start(api, username="nobody-here"),
    "wrong password": lambda api: start(api, password="not the password"),
    "wrong answers": lambda api: start(
        api, security_answers={"first-school": "St. Paul's", "childhood-street": "Rue"}
    ),
    "missing answers": lambda api: start(api),
    "one answer of two": lambda api: start(api, security_answers={"first-school": "st marys"}),
}


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_every_failed_reproof_answers_exactly_the_same(
    failure: str,
    anon_api: Any,
    answers_required: None,
    backup: SmsFactor,
    outbox: list[Any],
    mailoutbox: list[Any],
) -> None:
    response = FAILURES[failure](anon_api)

    assert response.status_code == 400
    assert response.json() == {"error": INVALID}
    assert "Retry-After" not in response
    assert outbox == [] and mailoutbox == []
    assert not AuthFlow.objects.exists()


def test_the_right_answers_typed_differently_still_match(
    anon_api: Any, answers_required: None, backup: SmsFactor, outbox: list[Any]
) -> None:
    response = start(
        anon_api,
        security_answers={"first-school": "  ST.   MARY'S ", "childhood-street": "rue de l'eglise"},
    )
    assert response.status_code == 202, response.content
    assert len(outbox) == 1


def test_answers_required_but_never_set_is_recovery_not_allowed_after_the_password(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any]
) -> None:
    policy.recovery_requires_security_answers = True
    policy.save()
    assert error_of(start(anon_api, password="wrong"))["code"] == "invalid_credentials"
    response = start(anon_api)
    assert response.status_code == 403
    assert error_of(response)["code"] == "recovery_not_allowed"
    assert outbox == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": 7, "password": PASSWORD}, "username"),
        ({"username": "alice", "password": ["x"]}, "password"),
        ({"username": "alice", "password": "x" * 5000}, "password"),
        ({"username": "alice", "password": PASSWORD, "security_answers": ["a"]}, "answers"),
    ],
)
def test_malformed_bodies_are_invalid_request_and_count_nothing(
    body: dict[str, Any], field: str, anon_api: Any, policy: TenantPolicy, backup: SmsFactor
) -> None:
    response = anon_api.post(RECOVERY_URL, body, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_request"
    assert not AuditEvent.objects.filter(event_type="password_refused").exists()
    assert not AuthFlow.objects.exists()


@pytest.mark.parametrize("raw", ["[]", "null", '"alice"', "{", "\x00"])
def test_a_body_that_is_not_a_json_object_is_invalid_request(
    raw: str, anon_api: Any, policy: TenantPolicy
) -> None:
    response = anon_api.post(RECOVERY_URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_request"


# --- Rate limits on failed re-proofs ----------------------------------------------------


@pytest.fixture
def tight_limits(settings: Any) -> None:
    settings.INTELLIAUTH_SMS = {
        **settings.INTELLIAUTH_SMS,
        "SIGN_IN_FAILURES_PER_USERNAME": "3/15m",
        "SIGN_IN_FAILURES_PER_IP": "5/15m",
    }


@pytest.mark.parametrize("username", ["alice", "nobody-here"])
def test_failed_reproofs_are_limited_per_username_the_same_whether_or_not_it_exists(
    username: str,
    tight_limits: None,
    anon_api: Any,
    policy: TenantPolicy,
    backup: SmsFactor,
    outbox: list[Any],
) -> None:
    answers = [start(anon_api, username=username, password="wrong").status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]
    limited = start(anon_api, username=username, password="wrong")
    assert error_of(limited)["code"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0
    assert error_of(limited)["message"].endswith("then try again.")
    # While limited, even the right password is refused, and nothing is sent.
    right = start(anon_api, username=username)
    assert right.status_code == 429
    assert outbox == []


def test_failed_reproofs_are_limited_per_ip_across_usernames(
    tight_limits: None, anon_api: Any, policy: TenantPolicy, backup: SmsFactor
) -> None:
    codes = [
        start(anon_api, username=f"someone-{i}", password="wrong").status_code for i in range(6)
    ]
    assert codes == [400] * 5 + [429]
    # Another address has its own count.
    anon_api.defaults["REMOTE_ADDR"] = "198.51.100.9"
    assert start(anon_api).status_code == 202


def test_failed_reproofs_are_audited_as_recovery_events_without_the_username(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, user: Any
) -> None:
    start(anon_api, password="wrong")
    start(anon_api, username="nobody-here", password="wrong")
    refused = list(AuditEvent.objects.filter(event_type="password_refused").order_by("id"))
    assert [(e.user_id, e.is_recovery, e.failure_code) for e in refused] == [
        (user.pk, True, "invalid_credentials"),
        (None, True, "invalid_credentials"),
    ]
    assert all("nobody-here" not in str(e.detail) for e in refused)


# --- Same time ------------------------------------------------------------------------


class MeasurablePBKDF2Hasher(PBKDF2PasswordHasher):
    """A real PBKDF2 with few iterations: slow enough to dominate a request, fast for tests."""

    iterations = 30_000


def _seconds(call: Callable[[], Any]) -> float:
    # CPU time of this process: the hashing work a request does, which is what must not
    # differ, without the other processes of a busy CI host in it (wall time had them).
    began = time.process_time()
    response = call()
    elapsed = time.process_time() - began
    assert response.status_code == 400, response.content
    return elapsed


def test_unknown_user_wrong_password_and_wrong_answers_take_the_same_time(
    settings: Any, anon_api: Any, policy: TenantPolicy, user: Any, backup: SmsFactor
) -> None:
    """The hasher runs as often for every failure: their times agree within 35 %."""
    settings.PASSWORD_HASHERS = ["tests.recovery.test_reproof.MeasurablePBKDF2Hasher"]
    settings.INTELLIAUTH_SMS = {
        **settings.INTELLIAUTH_SMS,
        "SIGN_IN_FAILURES_PER_USERNAME": None,
        "SIGN_IN_FAILURES_PER_IP": None,
        "REQUEST_RATE": None,
    }
    user.set_password(PASSWORD)
    user.save()
    policy.recovery_requires_security_answers = True
    policy.save()
    set_answers(user, ANSWERS)
    wrong_answers = {"first-school": "x" * 8, "childhood-street": "y" * 8}
    cases: dict[str, Callable[[], Any]] = {
        "unknown": lambda: start(anon_api, username="nobody", security_answers=wrong_answers),
        "password": lambda: start(anon_api, password="wrong", security_answers=wrong_answers),
        "answers": lambda: start(anon_api, security_answers=wrong_answers),
    }
    for call in cases.values():
        call()  # warm up
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(15):  # interleaved, so machine load falls on all three alike
        for name, call in cases.items():
            samples[name].append(_seconds(call))
    # The fastest of each is its cost without interference: they must agree within 35 %.
    # Without the dummy hash an unknown user skips one of three hashes and comes out about
    # a third faster, which this catches.
    fastest = {name: min(values) for name, values in samples.items()}
    assert max(fastest.values()) / min(fastest.values()) < 1.35, fastest


def test_a_body_larger_than_the_limit_is_refused_before_any_work(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any]
) -> None:
    huge = '{"username": "alice", "password": "' + "x" * 20_000 + '"}'
    response = anon_api.post(RECOVERY_URL, huge, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_request"
    assert outbox == [] and not AuditEvent.objects.exists()
