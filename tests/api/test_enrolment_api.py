"""Enrolment endpoints: ``enrolments/``, ``{id}/resend/``, ``{id}/complete/`` (CONTRACT §3)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils.dateparse import parse_datetime

from intelliauth_sms.models import (
    AuditEvent,
    CodeState,
    PendingEnrolment,
    SmsCode,
    SmsFactor,
    SmsMessage,
    TenantPolicy,
)
from tests.api import (
    LATEST_CODE_COPY,
    PHONE,
    assert_error,
    assert_masked,
    complete,
    enrol,
    failed_attempts,
    resend,
    snapshot,
    start,
    start_ok,
    wrong,
)
from tests.conftest import last_code

NOW = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)
PENDING_KEYS = {"id", "kind", "phone_number_masked", "expires_at"}
FACTOR_KEYS = {"id", "phone_number_masked", "purpose", "created_at"}


@pytest.fixture
def clock() -> Iterator[Any]:
    """Time frozen at ``NOW``; ``clock.shift(seconds)`` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _policy() -> TenantPolicy:
    return TenantPolicy.objects.get(tenant__slug="default")


def _at(value: str) -> datetime:
    parsed = parse_datetime(value)
    assert parsed is not None, value
    return parsed


# --- POST enrolments/ ---------------------------------------------------------------------


def test_start_answers_201_with_exactly_the_pending_shape_and_sends_one_sms(
    api: Any, outbox: list[Any]
) -> None:
    response = start(api)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == PENDING_KEYS
    assert body["kind"] == "pending"
    assert uuid.UUID(body["id"]).version == 4
    assert PendingEnrolment.objects.filter(pk=body["id"], completed_at__isnull=True).exists()
    assert len(outbox) == 1 and outbox[0].to == PHONE
    assert last_code(outbox) not in response.content.decode()
    assert SmsMessage.objects.count() == 1


@pytest.mark.parametrize(
    "phone",
    ["+14155550100", "+14155552671", "+447911123456", "+33612345678", "+4915112345678"],
)
def test_masked_number_shows_the_last_four_digits_and_no_other_digit(
    api: Any, outbox: list[Any], phone: str
) -> None:
    response = start(api, phone)

    assert response.status_code == 201, response.content
    assert_masked(response.json()["phone_number_masked"], phone)
    assert outbox[-1].to == phone


@pytest.mark.parametrize("ttl", [300, 120, 600])
def test_expires_at_is_now_plus_the_tenant_code_ttl(api: Any, clock: Any, ttl: int) -> None:
    policy = _policy()
    policy.code_ttl_seconds = ttl
    policy.save()

    response = start(api)

    assert response.status_code == 201, response.content
    assert _at(response.json()["expires_at"]) == NOW + timedelta(seconds=ttl)


def test_default_code_ttl_is_five_minutes(api: Any, clock: Any) -> None:
    response = start(api)

    assert _at(response.json()["expires_at"]) - NOW == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("extra", "purpose"),
    [({}, "mfa"), ({"purpose": "mfa"}, "mfa"), ({"purpose": "backup"}, "backup")],
)
def test_factor_purpose_defaults_to_mfa_and_backup_is_kept(
    api: Any, outbox: list[Any], extra: dict[str, str], purpose: str
) -> None:
    factor = enrol(api, outbox, **extra)

    assert factor["purpose"] == purpose
    assert SmsFactor.objects.get(pk=factor["id"]).purpose == purpose


def test_already_enrolled_number_answers_409_and_sends_nothing(api: Any, outbox: list[Any]) -> None:
    enrol(api, outbox)
    before = snapshot(outbox)

    response = start(api)

    assert_error(response, 409, "already_enrolled")
    assert snapshot(outbox) == before


def test_two_pending_enrolments_of_one_user_are_independent(api: Any, outbox: list[Any]) -> None:
    first_id, first_code = start_ok(api, outbox, "+14155550101")
    second_id, second_code = start_ok(api, outbox, "+14155550102")

    assert complete(api, first_id, first_code).status_code == 201
    assert complete(api, second_id, second_code).status_code == 201
    assert sorted(SmsFactor.objects.values_list("phone_last4", flat=True)) == ["0101", "0102"]


# --- POST enrolments/{id}/complete/ ------------------------------------------------------


def test_complete_answers_201_with_exactly_the_enrolled_shape(
    api: Any, outbox: list[Any], clock: Any
) -> None:
    enrolment_id, code = start_ok(api, outbox)
    clock.shift(30)

    response = complete(api, enrolment_id, code)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"kind", "factor"}
    assert body["kind"] == "enrolled"
    assert set(body["factor"]) == FACTOR_KEYS
    factor = SmsFactor.objects.get()
    assert body["factor"]["id"] == str(factor.pk)
    assert body["factor"]["purpose"] == "mfa"
    assert _at(body["factor"]["created_at"]) == NOW + timedelta(seconds=30)
    assert_masked(body["factor"]["phone_number_masked"], PHONE)
    assert str(factor.phone_number) == PHONE
    assert PendingEnrolment.objects.get(pk=enrolment_id).completed_at is not None


def test_enrolment_records_a_factor_enrolled_event_with_only_the_last_four_digits(
    api: Any, outbox: list[Any], user: Any
) -> None:
    factor = enrol(api, outbox)

    event = AuditEvent.objects.get(event_type="factor_enrolled")
    assert event.outcome == "success"
    assert event.failure_code == ""
    assert event.user == user
    assert event.tenant is not None and event.tenant.slug == "default"
    assert event.phone_last4 == "0100"
    assert str(event.subject_id) == factor["id"]
    assert event.is_recovery is False
    assert "4155550100" not in str(event.detail)


def test_enrolment_emails_the_user_with_only_the_masked_number(
    api: Any, outbox: list[Any], user: Any
) -> None:
    factor = enrol(api, outbox)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [user.email]
    assert factor["phone_number_masked"] in email.body
    for leaked in ("4155550100", "1415555", "415555", "55550100"):
        assert leaked not in email.body and leaked not in email.subject


def test_starting_an_enrolment_sends_no_email(api: Any, outbox: list[Any]) -> None:
    start_ok(api, outbox)

    assert mail.outbox == []


def test_a_used_code_replayed_answers_code_expired_and_is_not_counted(
    api: Any, outbox: list[Any], user: Any
) -> None:
    enrolment_id, code = start_ok(api, outbox)
    assert complete(api, enrolment_id, code).status_code == 201

    replay = complete(api, enrolment_id, code)

    error = assert_error(replay, 400, "code_expired", codes=(code,))
    assert error["message"] == LATEST_CODE_COPY
    assert SmsFactor.objects.count() == 1
    assert failed_attempts(user) == (0, 0)


def test_an_expired_code_answers_code_expired_and_is_not_counted(
    api: Any, outbox: list[Any], user: Any, clock: Any
) -> None:
    enrolment_id, code = start_ok(api, outbox)
    clock.shift(301)

    response = complete(api, enrolment_id, code)

    error = assert_error(response, 400, "code_expired", codes=(code,))
    assert error["message"] == LATEST_CODE_COPY
    assert SmsFactor.objects.count() == 0
    assert failed_attempts(user) == (0, 0)


def test_a_code_expires_exactly_at_expires_at(api: Any, outbox: list[Any], clock: Any) -> None:
    enrolment_id, code = start_ok(api, outbox)
    clock.shift(300)

    assert_error(complete(api, enrolment_id, code), 400, "code_expired")


def test_a_code_still_works_one_second_before_it_expires(
    api: Any, outbox: list[Any], clock: Any
) -> None:
    enrolment_id, code = start_ok(api, outbox)
    clock.shift(299)

    assert complete(api, enrolment_id, code).status_code == 201


def test_a_wrong_code_answers_invalid_code_with_attempts_remaining(
    api: Any, outbox: list[Any], user: Any
) -> None:
    enrolment_id, code = start_ok(api, outbox)

    first = complete(api, enrolment_id, wrong(code))
    second = complete(api, enrolment_id, wrong(code))

    error = assert_error(first, 400, "invalid_code", extra={"attempts_remaining"}, codes=(code,))
    assert error["attempts_remaining"] == 4
    assert error["message"] == LATEST_CODE_COPY
    second_error = assert_error(second, 400, "invalid_code", extra={"attempts_remaining"})
    assert second_error["attempts_remaining"] == 3
    assert failed_attempts(user) == (2, 2)
    assert SmsFactor.objects.count() == 0


def test_a_correct_code_after_wrong_ones_enrols_and_resets_the_count(
    api: Any, outbox: list[Any], user: Any
) -> None:
    enrolment_id, code = start_ok(api, outbox)
    for _ in range(3):
        complete(api, enrolment_id, wrong(code))
    assert failed_attempts(user) == (3, 3)

    assert complete(api, enrolment_id, code).status_code == 201
    assert failed_attempts(user) == (0, 0)


def test_the_fifth_wrong_code_already_answers_locked_with_retry_after_900(
    api: Any, outbox: list[Any], clock: Any
) -> None:
    enrolment_id, code = start_ok(api, outbox)
    remaining = [
        complete(api, enrolment_id, wrong(code)).json()["error"]["attempts_remaining"]
        for _ in range(4)
    ]

    fifth = complete(api, enrolment_id, wrong(code))

    assert remaining == [4, 3, 2, 1]
    error = assert_error(fifth, 429, "locked", extra={"retry_after"}, codes=(code,))
    assert error["retry_after"] == 900
    assert fifth["Retry-After"] == "900"
    assert "15 minutes" in error["message"]
    assert AuditEvent.objects.filter(event_type="lockout_started").count() == 1
    assert not SmsCode.objects.filter(state=CodeState.ACTIVE).exists()


def test_while_locked_the_right_code_and_a_resend_answer_locked_with_the_real_wait(
    api: Any, outbox: list[Any], clock: Any
) -> None:
    enrolment_id, code = start_ok(api, outbox)
    for _ in range(5):
        complete(api, enrolment_id, wrong(code))
    clock.shift(5 * 60)

    checked = complete(api, enrolment_id, code)
    resent = resend(api, enrolment_id)

    for response in (checked, resent):
        error = assert_error(response, 429, "locked", extra={"retry_after"}, codes=(code,))
        assert error["retry_after"] == 600
        assert response["Retry-After"] == "600"
        assert "Wait 10 minutes" in error["message"]
    assert len(outbox) == 1
    assert SmsFactor.objects.count() == 0


def test_after_the_lockout_the_burned_code_is_expired_and_a_new_code_works(
    api: Any, outbox: list[Any], user: Any, clock: Any
) -> None:
    enrolment_id, code = start_ok(api, outbox)
    for _ in range(5):
        complete(api, enrolment_id, wrong(code))
    clock.shift(15 * 60 + 1)

    assert_error(complete(api, enrolment_id, code), 400, "code_expired", codes=(code,))
    assert resend(api, enrolment_id).status_code == 202
    assert complete(api, enrolment_id, last_code(outbox)).status_code == 201
    assert failed_attempts(user) == (0, 0)


def test_lockout_covers_the_users_other_enrolments(api: Any, outbox: list[Any], clock: Any) -> None:
    first_id, first_code = start_ok(api, outbox, "+14155550101")
    second_id, second_code = start_ok(api, outbox, "+14155550102")
    for _ in range(5):
        complete(api, first_id, wrong(first_code))

    assert_error(complete(api, second_id, second_code), 429, "locked", extra={"retry_after"})
    assert_error(start(api, "+14155550103"), 429, "locked", extra={"retry_after"})
    assert PendingEnrolment.objects.count() == 2


# --- POST enrolments/{id}/resend/ ---------------------------------------------------------


def test_resend_answers_202_with_the_same_shape_and_a_fresh_expiry(
    api: Any, outbox: list[Any], clock: Any
) -> None:
    enrolment_id, _code = start_ok(api, outbox)
    clock.shift(60)

    response = resend(api, enrolment_id)

    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == PENDING_KEYS
    assert body["id"] == enrolment_id
    assert body["kind"] == "pending"
    assert_masked(body["phone_number_masked"], PHONE)
    assert _at(body["expires_at"]) == NOW + timedelta(seconds=60 + 300)
    assert len(outbox) == 2 and outbox[-1].to == PHONE


def test_resend_accepts_an_empty_body(api: Any, outbox: list[Any]) -> None:
    enrolment_id, _code = start_ok(api, outbox)

    response = api.post(f"/api/mfa/sms/enrolments/{enrolment_id}/resend/")

    assert response.status_code == 202, response.content
    assert len(outbox) == 2


def test_after_a_resend_the_previous_code_answers_code_expired_and_is_not_counted(
    api: Any, outbox: list[Any], user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two distinct codes, so the old one cannot equal the new one by chance.
    issued = iter(["111111", "222222"])
    monkeypatch.setattr("intelliauth_sms.services.codes.generate_code", lambda: next(issued))
    enrolment_id, old_code = start_ok(api, outbox)
    assert resend(api, enrolment_id).status_code == 202
    new_code = last_code(outbox)
    assert (old_code, new_code) == ("111111", "222222")

    response = complete(api, enrolment_id, old_code)

    error = assert_error(response, 400, "code_expired", codes=(old_code, new_code))
    assert error["message"] == LATEST_CODE_COPY
    assert failed_attempts(user) == (0, 0)
    assert SmsFactor.objects.count() == 0
    assert complete(api, enrolment_id, new_code).status_code == 201


def test_resend_of_a_completed_enrolment_sends_nothing(api: Any, outbox: list[Any]) -> None:
    enrolment_id, code = start_ok(api, outbox)
    assert complete(api, enrolment_id, code).status_code == 201
    before = snapshot(outbox)

    response = resend(api, enrolment_id)

    assert_error(response, 404, "not_found")
    assert snapshot(outbox) == before


# --- rate limit: enrolment_sms_per_hour ----------------------------------------------------


def _exhaust_enrolment_sends(api: Any, outbox: list[Any]) -> tuple[str, str]:
    """Start one enrolment and resend it until the 5 sends of the hour are used."""
    enrolment_id, _code = start_ok(api, outbox)
    for _ in range(4):
        assert resend(api, enrolment_id).status_code == 202
    assert len(outbox) == 5
    return enrolment_id, last_code(outbox)


def test_the_sixth_enrolment_sms_in_an_hour_is_rate_limited(
    api: Any, outbox: list[Any], clock: Any
) -> None:
    enrolment_id, code = _exhaust_enrolment_sends(api, outbox)

    response = resend(api, enrolment_id)

    error = assert_error(response, 429, "rate_limited", extra={"retry_after"}, codes=(code,))
    assert error["retry_after"] == 3600
    assert response["Retry-After"] == "3600"
    assert error["message"] == (
        "Codes are limited to a few per hour. Wait 60 minutes, then try again."
    )
    assert len(outbox) == 5
    assert SmsMessage.objects.count() == 5


def test_a_refused_resend_leaves_the_current_code_working(
    api: Any, outbox: list[Any], clock: Any
) -> None:
    enrolment_id, code = _exhaust_enrolment_sends(api, outbox)
    assert resend(api, enrolment_id).status_code == 429

    assert complete(api, enrolment_id, code).status_code == 201


def test_the_enrolment_rate_is_per_user_across_enrolments(
    api: Any, outbox: list[Any], clock: Any
) -> None:
    for last_digit in range(5):
        start_ok(api, outbox, f"+1415555010{last_digit}")

    response = start(api, "+14155550105")

    assert_error(response, 429, "rate_limited", extra={"retry_after"}, phones=("+14155550105",))
    assert PendingEnrolment.objects.count() == 5
    assert len(outbox) == 5


def test_the_enrolment_rate_of_one_user_does_not_limit_another(
    api: Any, outbox: list[Any], other_user: Any, client_for: Any, clock: Any
) -> None:
    _exhaust_enrolment_sends(api, outbox)

    assert start(client_for(other_user), "+14155550109").status_code == 201


@pytest.mark.parametrize(
    ("elapsed", "retry_after", "wait"),
    [
        (timedelta(seconds=30), 3570, "Wait 60 minutes"),
        (timedelta(minutes=45, seconds=1), 899, "Wait 15 minutes"),
        (timedelta(minutes=50), 600, "Wait 10 minutes"),
        (timedelta(minutes=59, seconds=30), 30, "Wait 1 minute,"),
    ],
)
def test_rate_limited_names_the_real_wait_rounded_up_to_minutes(
    api: Any,
    outbox: list[Any],
    clock: Any,
    elapsed: timedelta,
    retry_after: int,
    wait: str,
) -> None:
    enrolment_id, _code = _exhaust_enrolment_sends(api, outbox)
    clock.shift(elapsed)

    response = resend(api, enrolment_id)

    error = assert_error(response, 429, "rate_limited", extra={"retry_after"})
    assert error["retry_after"] == retry_after
    assert response["Retry-After"] == str(retry_after)
    assert wait in error["message"]
    assert error["message"].startswith("Codes are limited to a few per hour.")


def test_the_enrolment_rate_window_is_rolling(api: Any, outbox: list[Any], clock: Any) -> None:
    enrolment_id, _code = start_ok(api, outbox)
    clock.shift(timedelta(minutes=30))
    for _ in range(4):
        assert resend(api, enrolment_id).status_code == 202
    clock.shift(timedelta(minutes=30, seconds=1))

    # The first send left the window: one slot, and only one, is free.
    assert resend(api, enrolment_id).status_code == 202
    limited = resend(api, enrolment_id)
    assert_error(limited, 429, "rate_limited", extra={"retry_after"})
    assert limited.json()["error"]["retry_after"] == 30 * 60 - 1
