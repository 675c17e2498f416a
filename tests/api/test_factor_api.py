"""Factor endpoints: ``GET factors/``, ``POST factors/{id}/reveal/``, ``DELETE factors/{id}/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import time_machine
from django.core import mail
from django.utils.dateparse import parse_datetime

from intelliauth_sms.models import AuditEvent, SmsFactor
from tests.api import (
    PHONE,
    assert_error,
    assert_masked,
    enrol,
    factor_url,
    factors_url,
    reveal_url,
    snapshot,
    start,
)
from tests.factories import SmsFactorFactory

LISTED_KEYS = {"id", "phone_number_masked", "purpose", "created_at", "last_used_at"}
BACKUP_PHONE = "+447911123456"


# --- GET factors/ -------------------------------------------------------------------------


def test_list_answers_200_with_exactly_the_listed_shape_for_each_own_factor(
    api: Any, outbox: list[Any], user: Any, other_user: Any
) -> None:
    with time_machine.travel(datetime(2030, 1, 1, 9, tzinfo=UTC), tick=False):
        first = enrol(api, outbox)
    with time_machine.travel(datetime(2030, 1, 2, 9, tzinfo=UTC), tick=False):
        second = enrol(api, outbox, BACKUP_PHONE, purpose="backup")
    foreign = SmsFactorFactory(user=other_user, phone="+14155550199")

    response = api.get(factors_url())

    assert response.status_code == 200, response.content
    listed = response.json()
    assert isinstance(listed, list)
    assert [item["id"] for item in listed] == [first["id"], second["id"]]
    for item in listed:
        assert set(item) == LISTED_KEYS
        assert item["last_used_at"] is None
    assert [item["purpose"] for item in listed] == ["mfa", "backup"]
    assert parse_datetime(listed[0]["created_at"]) == datetime(2030, 1, 1, 9, tzinfo=UTC)
    assert_masked(listed[0]["phone_number_masked"], PHONE)
    assert_masked(listed[1]["phone_number_masked"], BACKUP_PHONE)
    text = response.content.decode()
    assert str(foreign.pk) not in text
    assert "0199" not in text
    assert "4155550100" not in text and "7911123456" not in text


def test_list_is_an_empty_list_for_a_user_without_factors(api: Any, other_user: Any) -> None:
    SmsFactorFactory(user=other_user)

    response = api.get(factors_url())

    assert response.status_code == 200
    assert response.json() == []


def test_list_does_not_show_pending_enrolments(api: Any, outbox: list[Any]) -> None:
    assert start(api).status_code == 201

    assert api.get(factors_url()).json() == []


def test_list_shows_last_used_at_when_set(api: Any, user: Any) -> None:
    used = datetime(2030, 3, 4, 5, 6, 7, tzinfo=UTC)
    SmsFactorFactory(user=user, last_used_at=used)

    (item,) = api.get(factors_url()).json()

    assert parse_datetime(item["last_used_at"]) == used


# --- POST factors/{id}/reveal/ -----------------------------------------------------------


def test_reveal_answers_200_with_only_the_e164_number(api: Any, outbox: list[Any]) -> None:
    factor = enrol(api, outbox)

    response = api.post(reveal_url(factor["id"]), {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"phone_number": PHONE}


def test_reveal_accepts_an_empty_body(api: Any, user: Any) -> None:
    factor = SmsFactorFactory(user=user, phone=BACKUP_PHONE)

    response = api.post(reveal_url(factor.pk))

    assert response.status_code == 200, response.content
    assert response.json() == {"phone_number": BACKUP_PHONE}


def test_reveal_records_a_number_revealed_event_with_only_the_last_four_digits(
    api: Any, user: Any
) -> None:
    factor = SmsFactorFactory(user=user)

    api.post(reveal_url(factor.pk), {}, format="json")

    event = AuditEvent.objects.get(event_type="number_revealed")
    assert event.outcome == "success"
    assert event.user == user
    assert event.tenant is not None and event.tenant.slug == "default"
    assert event.phone_last4 == "0100"
    assert event.subject_id == factor.pk
    assert event.ip_address == "127.0.0.1"
    assert "4155550100" not in str(event.detail)


def test_every_reveal_is_audited(api: Any, user: Any) -> None:
    factor = SmsFactorFactory(user=user)

    for _ in range(3):
        assert api.post(reveal_url(factor.pk), {}, format="json").status_code == 200

    assert AuditEvent.objects.filter(event_type="number_revealed").count() == 3


def test_reveal_sends_no_sms_and_changes_no_factor(api: Any, user: Any, outbox: list[Any]) -> None:
    factor = SmsFactorFactory(user=user)
    before = snapshot(outbox)

    api.post(reveal_url(factor.pk), {}, format="json")

    assert snapshot(outbox) == {**before, "reveals": before["reveals"] + 1}


# --- DELETE factors/{id}/ -----------------------------------------------------------------


def test_delete_answers_204_with_no_body_and_removes_the_row(api: Any, user: Any) -> None:
    factor = SmsFactorFactory(user=user)
    kept = SmsFactorFactory(user=user, phone=BACKUP_PHONE)

    response = api.delete(factor_url(factor.pk))

    assert response.status_code == 204
    assert response.content == b""
    assert not SmsFactor.objects.filter(pk=factor.pk).exists()
    assert SmsFactor.objects.filter(pk=kept.pk).exists()
    assert [item["id"] for item in api.get(factors_url()).json()] == [str(kept.pk)]


def test_delete_records_a_factor_removed_event_with_only_the_last_four_digits(
    api: Any, user: Any
) -> None:
    factor = SmsFactorFactory(user=user)

    api.delete(factor_url(factor.pk))

    event = AuditEvent.objects.get(event_type="factor_removed")
    assert event.outcome == "success"
    assert event.user == user
    assert event.phone_last4 == "0100"
    assert event.subject_id == factor.pk
    assert "4155550100" not in str(event.detail)


def test_delete_emails_the_user_with_only_the_masked_number(api: Any, user: Any) -> None:
    factor = SmsFactorFactory(user=user)

    api.delete(factor_url(factor.pk))

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [user.email]
    assert factor.phone_number_masked in email.body
    for leaked in ("4155550100", "1415555", "415555", "55550100"):
        assert leaked not in email.body and leaked not in email.subject


def test_deleting_twice_answers_not_found_the_second_time(api: Any, user: Any) -> None:
    factor = SmsFactorFactory(user=user)
    assert api.delete(factor_url(factor.pk)).status_code == 204

    response = api.delete(factor_url(factor.pk))

    assert_error(response, 404, "not_found")
    assert AuditEvent.objects.filter(event_type="factor_removed").count() == 1
    assert len(mail.outbox) == 1


def test_a_removed_number_can_be_enrolled_again(api: Any, outbox: list[Any], user: Any) -> None:
    factor = enrol(api, outbox)
    assert_error(start(api), 409, "already_enrolled")

    assert api.delete(factor_url(factor["id"])).status_code == 204

    again = enrol(api, outbox)
    assert again["id"] != factor["id"]
    assert api.post(reveal_url(again["id"]), {}, format="json").json() == {"phone_number": PHONE}
