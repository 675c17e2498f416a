"""Delivering a queued SMS: runs in the Celery task, at most once per message.

A run claims the message (``queued`` → ``sending``) under a row lock before it calls a
backend, so a task delivered twice (a redelivery after a worker died, a broker that
re-sent it, the sweep's copy) hands the message to a provider once. The claim also checks
that the task's sealed code is the message's current code: the sweep may have replaced it
(``services.requeue``), and a stale copy of the task then does nothing.

A transient failure (timeout, connection error, 429, 5xx, after every backend of an
``SMS_BACKEND`` list) gives the message back to the queue with a retry planned after an
exponential, jittered delay, but only while the code will still be valid when it arrives.
A permanent failure, or running out of time, fails the message and its code: typing that
code answers ``code_expired``, the contract's copy that sends the user to ask for another.
"""

from __future__ import annotations

import logging
import math
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from intelliauth_sms.backends import OutgoingSms, SmsBackendError, send_with_failover
from intelliauth_sms.conf import app_settings
from intelliauth_sms.crypto import code_hash, decrypt_secret, hashes_match
from intelliauth_sms.models import CodeState, EventType, MessageStatus, Outcome, SmsMessage
from intelliauth_sms.services import audit, delivery_claim, sql
from intelliauth_sms.services.upsert import returning_supported

logger = logging.getLogger("intelliauth_sms.delivery")

#: The first retry after a transient failure waits about this long; each next one twice as
#: long, at most ``RETRY_MAX_DELAY_SECONDS``. Jitter spreads the retries of a provider
#: outage so they do not all land on its first second back.
RETRY_FIRST_DELAY_SECONDS = 5
RETRY_MAX_DELAY_SECONDS = 60
#: A retry is planned only if the code is still valid this long after it: an SMS arriving
#: with seconds left is a code nobody can type in time.
RETRY_MIN_REMAINING_SECONDS = 30
#: Attempts at a provider in all, whatever time is left.
MAX_SEND_ATTEMPTS = 6


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


def retry_delay(attempts: int, *, randbelow: Callable[[int], int] | None = None) -> int:
    """Seconds to wait after failed attempt number ``attempts`` (1, 2, …).

    Exponential (5, 10, 20, 40, 60, 60 … seconds) with "equal jitter": half the step fixed,
    the other half random, so no retry comes sooner than half its step.
    """
    step = min(RETRY_MAX_DELAY_SECONDS, RETRY_FIRST_DELAY_SECONDS * 2 ** max(0, attempts - 1))
    jitter = (randbelow or secrets.randbelow)(step // 2 + 1)
    return step - step // 2 + jitter


@dataclass(frozen=True)
class Delivery:
    """What a run did: the message's status after it (``None``: nothing to do), and for a
    transient failure with time left, the seconds until the planned retry."""

    status: MessageStatus | None
    retry_in: int | None = None


NOTHING_TO_DO = Delivery(None)


#: What a run reads of a message and its code, in one query (no model instances: the send
#: path is the worker's hot loop, and the rare paths load what they need).
_DELIVERY_FIELDS = (
    "status",
    "due_at",
    "phone_number",
    "code_id",
    "code__code_hash",
    "code__state",
    "code__created_at",
    "code__expires_at",
)


_PHONE_FIELD: Any = SmsMessage._meta.get_field("phone_number")


@dataclass(frozen=True)
class Claimed:
    """A message this run holds (``sending``): what sending it needs."""

    message_id: uuid.UUID
    to: str
    code: str
    ttl_seconds: int


def _load(message_id: uuid.UUID, *, lock: bool = False) -> SmsMessage | None:
    """The whole message with its code, user and tenant (the audited, rare paths)."""
    messages = SmsMessage.objects.select_related("code", "user", "tenant")
    if lock:
        messages = messages.select_for_update(of=("self",))
    return messages.filter(pk=message_id).first()


def expire_queued(message: SmsMessage) -> None:
    """The code expired or was replaced while its SMS was queued: send nothing."""
    message.status = MessageStatus.EXPIRED
    message.phone_number = ""
    message.save(update_fields=["status", "phone_number"])
    audit.record_for_message(
        EventType.SMS_NOT_SENT_EXPIRED,
        message,
        outcome=Outcome.FAILURE,
        failure_code="code_expired",
        ip=message.client_ip,
    )


def _expire_if_still_queued(message_id: uuid.UUID) -> None:
    with transaction.atomic():
        message = _load(message_id, lock=True)
        if message is not None and message.status == MessageStatus.QUEUED:
            code = message.code
            if code.state != CodeState.ACTIVE or code.expires_at <= timezone.now():
                expire_queued(message)


def claim(message_id: uuid.UUID, sealed_code: str) -> Claimed | None:
    """Mark a queued message as sending; ``None`` if this run has nothing to do (another
    run has it, it is final, its code expired or was replaced, or this task's code is not
    the message's current one).

    The common case is one statement (``delivery_claim``); whatever it does not claim is
    read and decided here.
    """
    try:
        plaintext = decrypt_secret(sealed_code)
    except (InvalidToken, ValueError, UnicodeError):
        logger.info("SMS %s: the task's payload is not a sealed code", message_id)
        return None
    if returning_supported():
        claimed = delivery_claim.claim_in_one_statement(message_id, plaintext)
        if claimed is not None:
            phone = _PHONE_FIELD.from_db_value(claimed.phone_ciphertext, None, connection)
            ttl = claimed.code_expires_at - claimed.code_created_at
            return Claimed(message_id, str(phone), plaintext, int(ttl.total_seconds()))
    return _claim_after_reading(message_id, plaintext)


def _claim_after_reading(message_id: uuid.UUID, plaintext: str) -> Claimed | None:
    """The claim in two steps: read the message, then a conditional ``UPDATE`` naming the
    status and due time it read, so of two runs racing for it exactly one changes the row,
    and a sweep that re-issued the code in between (it moves ``due_at``) makes it change
    nothing. Expires a message whose code is no longer valid."""
    row = SmsMessage.objects.filter(pk=message_id).values(*_DELIVERY_FIELDS).first()
    if row is None or row["status"] != MessageStatus.QUEUED:
        return None
    now = timezone.now()
    if row["code__state"] != CodeState.ACTIVE or row["code__expires_at"] <= now:
        _expire_if_still_queued(message_id)
        return None
    if not hashes_match(row["code__code_hash"], code_hash(str(row["code_id"]), plaintext)):
        # A copy of the task from before the sweep re-issued the code, or a payload that
        # is not ours: the message waits for the task that holds its current code.
        logger.info("SMS %s: this task's code is not the message's current code", message_id)
        return None
    claimed = SmsMessage.objects.filter(
        pk=message_id, status=MessageStatus.QUEUED, due_at=row["due_at"]
    ).update(status=MessageStatus.SENDING, attempts=F("attempts") + 1)
    if not claimed:
        return None
    ttl = row["code__expires_at"] - row["code__created_at"]
    return Claimed(message_id, str(row["phone_number"]), plaintext, int(ttl.total_seconds()))


def deliver(message_id: str, sealed_code: str) -> Delivery:
    """Hand the message to the provider(s) at most once; what became of it."""
    try:
        claimed = claim(uuid.UUID(message_id), sealed_code)
    except ValueError:
        return NOTHING_TO_DO  # not a message id
    if claimed is None:
        return NOTHING_TO_DO
    sms = OutgoingSms(
        to=claimed.to,
        body=render_body(claimed.code, claimed.ttl_seconds),
        message_id=str(claimed.message_id),
    )
    try:
        # Every configured backend in turn while the failure is transient (SMS_BACKEND list).
        provider_id = send_with_failover(sms)
    except SmsBackendError as exc:
        message = _load(claimed.message_id)
        if message is None:
            return NOTHING_TO_DO  # deleted meanwhile (its user was)
        if exc.transient:
            delay = _plan_retry(message, exc, timezone.now())
            if delay is not None:
                return Delivery(MessageStatus.QUEUED, retry_in=delay)
        return Delivery(_fail(message, exc))
    _finish_sent(claimed.message_id, provider_id)
    return Delivery(MessageStatus.SENT)


def _plan_retry(message: SmsMessage, error: SmsBackendError, now: datetime) -> int | None:
    """Queue the message again for a retry, if there is time and attempts left."""
    if message.attempts >= MAX_SEND_ATTEMPTS:
        return None
    delay = retry_delay(message.attempts)
    due = now + timedelta(seconds=delay)
    if message.code.expires_at - due < timedelta(seconds=RETRY_MIN_REMAINING_SECONDS):
        return None
    message.status = MessageStatus.QUEUED
    message.due_at = due
    message.error = error.describe()[:200]
    message.provider_error = error.provider_code[:64]
    message.save(update_fields=["status", "due_at", "error", "provider_error"])
    audit.record_for_message(
        EventType.SMS_DELIVERY_RETRIED,
        message,
        outcome=Outcome.FAILURE,
        ip=message.client_ip,
        detail={
            "error": message.error,
            "provider_error": message.provider_error,
            "attempt": message.attempts,
            "retry_in": delay,
        },
    )
    logger.warning("SMS %s: %s; retry in %s s", message.id, error.describe(), delay)
    return delay


def _finish_sent(message_id: uuid.UUID, provider_id: str) -> None:
    provider_id = provider_id[:128]
    # ``sql.update``, not the ORM: this is the worker's hot path. The destination is not
    # kept once it has been used (an empty column, as ``EncryptedPhoneNumberField`` stores it).
    sql.update(
        SmsMessage,
        {"id": message_id},
        {
            "status": MessageStatus.SENT,
            "provider_message_id": provider_id,
            "error": "",
            "provider_error": "",
            "sent_at": timezone.now(),
            "phone_number": "",
        },
    )
    # A delivery report that outran this update is applied by the task its webhook queued
    # (``delivery_status``), not looked for here: nearly every delivery would look in vain.


def _fail(message: SmsMessage, error: SmsBackendError) -> MessageStatus:
    """The message failed for good: so does its code (the user asks for another)."""
    with transaction.atomic():
        message.status = MessageStatus.FAILED
        message.provider_message_id = ""
        message.error = error.describe().strip()[:200]
        message.provider_error = error.provider_code[:64]
        message.sent_at = None
        message.phone_number = ""
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
        type(message.code).objects.filter(pk=message.code_id, state=CodeState.ACTIVE).update(
            state=CodeState.UNSENT
        )
        audit.record_for_message(
            EventType.SMS_DELIVERY_FAILED,
            message,
            outcome=Outcome.FAILURE,
            ip=message.client_ip,
            detail={
                "error": message.error,
                "provider_error": message.provider_error,
                "attempts": message.attempts,
            },
        )
    logger.warning("SMS %s failed: %s", message.id, message.error)
    return MessageStatus.FAILED
