"""Delivering a queued SMS: runs in the Celery task, at most once per message."""

from __future__ import annotations

import logging
import math
import uuid

from cryptography.fernet import InvalidToken
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from intelliauth_sms.backends import OutgoingSms, SmsBackendError, send_with_failover
from intelliauth_sms.conf import app_settings
from intelliauth_sms.crypto import code_hash, decrypt_secret, hashes_match
from intelliauth_sms.models import CodeState, EventType, MessageStatus, Outcome, SmsMessage
from intelliauth_sms.services import audit

logger = logging.getLogger("intelliauth_sms.delivery")


def render_body(code: str, ttl_seconds: int) -> str:
    """The SMS text (``MESSAGE_TEMPLATE``), translated in the active language.

    With ``WEBOTP_DOMAIN`` set, the last line is the origin-bound ``@domain #code`` of WICG
    "SMS one-time codes": browsers then autofill the code on that site only.
    """
    text = _(app_settings.MESSAGE_TEMPLATE).format(
        code=code, minutes=max(1, math.ceil(ttl_seconds / 60))
    )
    domain = app_settings.WEBOTP_DOMAIN
    return f"{text}\n\n@{domain} #{code}" if domain else text


def _claim(message_id: uuid.UUID) -> SmsMessage | None:
    """Mark a queued message as sending; ``None`` if another run has it or it expired."""
    with transaction.atomic():
        message = (
            SmsMessage.objects.select_for_update()
            .select_related("code", "user", "tenant")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.status != MessageStatus.QUEUED:
            return None
        code = message.code
        if code.state != CodeState.ACTIVE or code.expires_at <= timezone.now():
            # The code expired or was replaced while queued: send nothing.
            message.status = MessageStatus.EXPIRED
            message.phone_number = ""
            message.save(update_fields=["status", "phone_number"])
            audit.record(
                EventType.SMS_NOT_SENT_EXPIRED,
                outcome=Outcome.FAILURE,
                failure_code="code_expired",
                purpose=message.purpose,
                phone_last4=message.phone_last4,
                subject_id=message.subject_id,
                user=message.user,
                tenant=message.tenant,
                ip=message.client_ip,
            )
            return None
        message.status = MessageStatus.SENDING
        message.save(update_fields=["status"])
        return message


def deliver(message_id: str, sealed_code: str) -> MessageStatus | None:
    """Send the message once. Returns its final status, or ``None`` if there was nothing to do.

    Delivery is at most once: a message is claimed (``sending``) before the backend is
    called, so a redelivered task never sends a second SMS.
    """
    message = _claim(uuid.UUID(message_id))
    if message is None:
        return None
    try:
        plaintext = decrypt_secret(sealed_code)
    except (InvalidToken, ValueError):
        # A tampered or foreign payload: fail the claimed message rather than strand it.
        return _finish(message, MessageStatus.FAILED, error="payload does not match the code")
    if not hashes_match(message.code.code_hash, code_hash(str(message.code_id), plaintext)):
        return _finish(message, MessageStatus.FAILED, error="payload does not match the code")
    ttl = int((message.code.expires_at - message.code.created_at).total_seconds())
    sms = OutgoingSms(
        to=str(message.phone_number), body=render_body(plaintext, ttl), message_id=str(message.id)
    )
    try:
        # Every configured backend in turn while the failure is transient (SMS_BACKEND list).
        provider_id = send_with_failover(sms)
    except SmsBackendError as exc:
        return _finish(
            message, MessageStatus.FAILED, error=exc.describe(), provider_error=exc.provider_code
        )
    return _finish(message, MessageStatus.SENT, provider_id=provider_id)


def _finish(
    message: SmsMessage,
    status: MessageStatus,
    *,
    provider_id: str = "",
    error: str = "",
    provider_error: str = "",
) -> MessageStatus:
    message.status = status
    message.provider_message_id = provider_id[:128]
    message.error = error.strip()[:200]
    message.provider_error = provider_error[:64]
    message.sent_at = timezone.now() if status == MessageStatus.SENT else None
    message.phone_number = ""  # the destination is not kept once it has been used
    message.save(
        update_fields=[
            "status",
            "provider_message_id",
            "error",
            "provider_error",
            "sent_at",
            "phone_number",
        ]
    )
    if status == MessageStatus.FAILED:
        audit.record(
            EventType.SMS_DELIVERY_FAILED,
            outcome=Outcome.FAILURE,
            purpose=message.purpose,
            phone_last4=message.phone_last4,
            subject_id=message.subject_id,
            user=message.user,
            tenant=message.tenant,
            ip=message.client_ip,
            detail={"error": message.error, "provider_error": message.provider_error},
        )
        logger.warning("SMS %s failed: %s", message.id, message.error)
    return status
