"""Sending django-allauth's phone codes through this app's gate, records and delivery.

allauth generates its code and checks what the user types; here the code only passes the
send-policy gate, becomes an ``SmsCode`` of purpose ``allauth`` (a keyed hash, never the
code) with its ``SmsMessage``, and is delivered by the Celery task with the code sealed in
the payload, exactly like this app's own codes.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from intelliauth_sms.crypto import keyed_hash
from intelliauth_sms.exceptions import InvalidPhoneNumber
from intelliauth_sms.models import CodePurpose, CodeState, EventType, SmsCode
from intelliauth_sms.phone import PhoneNumber, parse_e164
from intelliauth_sms.services import audit, codes
from intelliauth_sms.services.context import Caller

#: The namespace of the subject ids of allauth codes (one per user and number).
_SUBJECTS = uuid.UUID("5f0c1d2e-7a3b-4c8d-9e1f-a11a07000001")


def subject_for(user: Any, phone: PhoneNumber) -> uuid.UUID:
    """The subject of a user's allauth codes to one number: stable, so a resend replaces."""
    return uuid.uuid5(_SUBJECTS, keyed_hash("allauth-subject", f"{user.pk}:{phone.e164}"))


def send_code(
    user: Any, phone: object, code: str, *, ttl_seconds: int, request: HttpRequest | None
) -> codes.IssuedCode:
    """Gate, record and queue allauth's ``code`` for ``phone``; raise the gate's refusal.

    Every refusal (an invalid number included) is audited as ``sms_refused`` with at most
    the number's last 4 digits, and leaves nothing to send.
    """
    caller = Caller.for_user(user, request)
    with audit.refusals_recorded(EventType.SMS_REFUSED, caller, purpose=CodePurpose.ALLAUTH):
        destination = parse_e164(phone)
    subject_id = subject_for(user, destination)
    with (
        audit.refusals_recorded(
            EventType.SMS_REFUSED,
            caller,
            purpose=CodePurpose.ALLAUTH,
            phone_last4=destination.last4,
            subject_id=subject_id,
        ),
        transaction.atomic(),
    ):
        return codes.issue_code(
            caller,
            purpose=CodePurpose.ALLAUTH,
            subject_id=subject_id,
            destination=destination,
            plaintext=code,
            ttl_seconds=ttl_seconds,
        )


def mark_verified(user: Any, phone: object) -> int:
    """Mark the user's live allauth code to ``phone`` as used, once allauth accepted it.

    The pumping breaker counts used codes as verified sends; without this every allauth
    send would look like an unconverted one. Returns the number of codes marked.
    """
    try:
        destination = parse_e164(phone)
    except InvalidPhoneNumber:
        return 0  # never sent through this app, so nothing to mark
    return SmsCode.objects.filter(
        user=user,
        purpose=CodePurpose.ALLAUTH,
        subject_id=subject_for(user, destination),
        state=CodeState.ACTIVE,
    ).update(state=CodeState.USED, used_at=timezone.now())
