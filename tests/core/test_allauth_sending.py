"""``contrib.allauth.sending`` without allauth: a code made elsewhere, gated and delivered.

The allauth tier (``make test-allauth``) drives the same code through allauth's views.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from intelliauth_sms import crypto
from intelliauth_sms.contrib.allauth import sending
from intelliauth_sms.exceptions import InvalidPhoneNumber
from intelliauth_sms.models import (
    AuditEvent,
    CodePurpose,
    CodeState,
    EventType,
    MessageStatus,
    SmsCode,
    SmsMessage,
)
from intelliauth_sms.phone import parse_e164
from tests.core.conftest import GB, US

pytestmark = pytest.mark.django_db

GIVEN = "QX7K-2MZP"


def test_a_given_code_is_hashed_sent_in_the_template_and_expires_with_its_ttl(
    user: Any, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        issued = sending.send_code(user, GB, GIVEN, ttl_seconds=180, request=None)

    code = SmsCode.objects.get()
    assert code.purpose == CodePurpose.ALLAUTH
    assert code.code_hash == crypto.code_hash(str(code.id), GIVEN)
    assert GIVEN not in code.code_hash
    assert (
        before + timedelta(seconds=179) < code.expires_at <= timezone.now() + timedelta(seconds=180)
    )
    assert [sms.to for sms in outbox] == [GB]
    assert outbox[0].body.startswith(f"Your verification code is {GIVEN}. It expires in 3 min")
    assert SmsMessage.objects.get().status == MessageStatus.SENT
    assert issued.message.purpose == CodePurpose.ALLAUTH


def test_a_resend_to_the_same_number_replaces_the_previous_code(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = sending.send_code(user, GB, "AAAA-AAAA", ttl_seconds=900, request=None)
        second = sending.send_code(user, GB, "BBBB-BBBB", ttl_seconds=900, request=None)

    assert first.code.subject_id == second.code.subject_id
    first.code.refresh_from_db()
    assert first.code.state == CodeState.REPLACED
    assert sending.subject_for(user, parse_e164(US)) != first.code.subject_id


def test_an_invalid_number_is_refused_audited_and_not_sent(user: Any, outbox: list[Any]) -> None:
    with pytest.raises(InvalidPhoneNumber):
        sending.send_code(user, "07400 123456", GIVEN, ttl_seconds=900, request=None)

    assert outbox == []
    assert not SmsCode.objects.exists()
    event = AuditEvent.objects.get()
    assert (event.event_type, event.failure_code, event.purpose) == (
        EventType.SMS_REFUSED,
        "invalid_phone_number",
        CodePurpose.ALLAUTH,
    )


def test_mark_verified_uses_only_the_live_code_of_that_number(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sending.send_code(user, GB, GIVEN, ttl_seconds=900, request=None)

    assert sending.mark_verified(user, US) == 0
    assert sending.mark_verified(user, "not a number") == 0
    assert sending.mark_verified(user, GB) == 1
    assert SmsCode.objects.get().state == CodeState.USED
    assert sending.mark_verified(user, GB) == 0
