"""The delivery task through real provider backends (against the local fake): the provider's
code is recorded on the message and in the audit trail, and a list fails over."""

from __future__ import annotations

from typing import Any

import pytest

from intelliauth_sms.models import AuditEvent, EventType, MessageStatus, SmsMessage
from intelliauth_sms.services import enrolment
from tests.providers.conftest import LOCMEM, TWILIO, FakeProvider, Reply

pytestmark = pytest.mark.django_db


def send_enrolment_code(user: Any, capture: Any) -> SmsMessage:
    with capture(execute=True):
        _pending, issued = enrolment.start_enrolment(user, "+14155550100")
    return SmsMessage.objects.get(pk=issued.message.pk)


def test_a_sent_message_keeps_the_providers_id(
    twilio_site: FakeProvider, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    twilio_site.answer(Reply(201, {"sid": "SM123"}))

    message = send_enrolment_code(user, django_capture_on_commit_callbacks)

    assert (message.status, message.provider_message_id, message.provider_error) == (
        MessageStatus.SENT,
        "SM123",
        "",
    )
    assert twilio_site.received[0].form["To"] == "+14155550100"


def test_a_permanent_failure_is_recorded_and_audited_with_the_providers_code(
    twilio_site: FakeProvider, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    twilio_site.answer(Reply(400, {"code": 21211, "message": "+14155550100 is not valid"}))

    message = send_enrolment_code(user, django_capture_on_commit_callbacks)

    assert (message.status, message.provider_error) == (MessageStatus.FAILED, "21211")
    assert "permanent" in message.error and "0100" not in message.error
    event = AuditEvent.objects.get(event_type=EventType.SMS_DELIVERY_FAILED)
    assert event.detail["provider_error"] == "21211" and event.phone_last4 == "0100"
    assert "4155550100" not in str(event.detail)


def test_a_transient_failure_fails_over_to_the_next_backend(
    twilio_site: FakeProvider,
    settings: Any,
    user: Any,
    outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "SMS_BACKEND": [TWILIO, LOCMEM]}
    twilio_site.answer(Reply(503, {}))

    message = send_enrolment_code(user, django_capture_on_commit_callbacks)

    assert message.status == MessageStatus.SENT and message.provider_message_id == "locmem-1"
    assert len(twilio_site.received) == 1 and len(outbox) == 1
