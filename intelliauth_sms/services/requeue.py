"""The sweep: queue again the messages whose delivery task was lost.

A message stays ``queued`` when its task never reached the broker (the broker was down when
the request committed) or was lost there. Celery beat runs ``intelliauth_sms.sweep_queued``
every minute; it finds messages still queued ``SWEEP_AFTER_SECONDS`` after they were due and
queues a new task for each, while its code is valid.

The code itself exists only sealed inside the lost task (never in the database), so the
sweep issues the message a new code: a fresh plaintext hashed into the same code row, sealed
into the new task. The user never saw the first code, since it was never sent. A stale copy
of the first task, if the broker still had one, finds a code that is no longer its own and
does nothing (``delivery.claim``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from intelliauth_sms.crypto import code_hash, encrypt_secret
from intelliauth_sms.models import CodeState, EventType, MessageStatus, Outcome, SmsMessage
from intelliauth_sms.services import audit, dispatch
from intelliauth_sms.services.codes import generate_code
from intelliauth_sms.services.delivery import expire_queued
from intelliauth_sms.services.delivery_claim import payload_check

logger = logging.getLogger("intelliauth_sms.requeue")

#: A queued message this long past its due time lost its task. Long enough for a busy
#: worker pool to reach a task the broker still holds (a copy found later does nothing).
SWEEP_AFTER_SECONDS = 120
#: Messages taken per run; the next run (a minute later) takes the rest.
SWEEP_BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    requeued: int
    expired: int


def sweep_queued(
    now: datetime | None = None, *, after_seconds: int = SWEEP_AFTER_SECONDS
) -> SweepReport:
    """Queue again every message still queued ``after_seconds`` past its due time, while
    its code is valid; expire those whose code is not."""
    now = now or timezone.now()
    overdue = list(
        SmsMessage.objects.filter(
            status=MessageStatus.QUEUED, due_at__lte=now - timedelta(seconds=after_seconds)
        )
        .exclude(phone_number="")  # the partial index of unsent messages
        .order_by("due_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    requeued = expired = 0
    for message_id in overdue:
        outcome = _requeue(message_id, now)
        requeued += outcome == "requeued"
        expired += outcome == "expired"
    if overdue:
        logger.info("Sweep: %s SMS queued again, %s expired", requeued, expired)
    return SweepReport(requeued=requeued, expired=expired)


def _requeue(message_id: uuid.UUID, now: datetime) -> str:
    with transaction.atomic():
        message = (
            SmsMessage.objects.select_for_update(of=("self",))
            .select_related("code", "user", "tenant")
            .filter(pk=message_id, status=MessageStatus.QUEUED)
            .first()
        )
        if message is None:
            return "gone"  # a worker got to it meanwhile
        code = message.code
        if code.state != CodeState.ACTIVE or code.expires_at <= now:
            expire_queued(message)
            return "expired"
        plaintext = generate_code()
        code.code_hash = code_hash(str(code.id), plaintext)
        code.save(update_fields=["code_hash"])
        message.due_at = now
        message.payload_check = payload_check(message.id, plaintext)
        message.save(update_fields=["due_at", "payload_check"])
        audit.record_for_message(
            EventType.SMS_REQUEUED, message, outcome=Outcome.SUCCESS, ip=message.client_ip
        )
        sealed = encrypt_secret(plaintext)
        language = message.language
        transaction.on_commit(lambda: dispatch.deliver_sms(str(message.id), sealed, language))
    return "requeued"
