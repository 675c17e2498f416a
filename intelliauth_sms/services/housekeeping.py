"""Removing what is no longer needed: expired flows and stale enrolments with their numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from intelliauth_sms.models import AuthFlow, MessageStatus, PendingEnrolment, SendLock, SmsMessage

#: A pending enrolment nobody completed within this time is deleted (its number with it).
STALE_ENROLMENT_AFTER = timedelta(days=1)
#: Expired flows are kept this long for support questions, then deleted.
EXPIRED_FLOW_KEPT_FOR = timedelta(days=7)


@dataclass(frozen=True)
class CleanupReport:
    flows_deleted: int
    enrolments_deleted: int
    destinations_cleared: int
    locks_deleted: int


#: Lock rows deleted per transaction by the clean-up.
LOCK_BATCH = 500


def _delete_idle_locks() -> int:
    """Delete the ``SendLock`` rows no send holds now; they are recreated on demand.

    Never waits for a lock: a send holds its address's row and then its number's, and a
    delete that locked rows in its own order and waited could deadlock with it. With
    ``SKIP LOCKED`` a row a send holds is left for the next clean-up; a database without it
    but with ``NOWAIT`` (MariaDB 10.5) ends this clean-up's lock deletion at the first held
    row instead. SQLite serialises writers.
    """
    features = connection.features
    rows = SendLock.objects.order_by("pk")
    if features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    elif features.has_select_for_update_nowait:
        rows = rows.select_for_update(nowait=True)
    deleted = 0
    while True:
        try:
            with transaction.atomic():
                batch = list(rows.values_list("pk", flat=True)[:LOCK_BATCH])
                if batch:
                    deleted += SendLock.objects.filter(pk__in=batch).delete()[0]
        except OperationalError:  # NOWAIT met a row a send holds
            return deleted
        if len(batch) < LOCK_BATCH:
            return deleted


def clean_up() -> CleanupReport:
    """Delete stale enrolments and old expired flows; clear destinations of unsent messages.

    Messages and audit events are kept (the rate limits and the audit trail need them);
    only the encrypted destination of a message stuck before sending is cleared.
    """
    now = timezone.now()
    flows_deleted, _ = AuthFlow.objects.filter(expires_at__lt=now - EXPIRED_FLOW_KEPT_FOR).delete()
    enrolments_deleted, _ = PendingEnrolment.objects.filter(
        completed_at__isnull=True, created_at__lt=now - STALE_ENROLMENT_AFTER
    ).delete()
    destinations_cleared = (
        SmsMessage.objects.filter(created_at__lt=now - STALE_ENROLMENT_AFTER)
        .exclude(phone_number="")
        .filter(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])
        .update(phone_number="", status=MessageStatus.FAILED, error="not sent in time")
    )
    locks_deleted = _delete_idle_locks()
    return CleanupReport(flows_deleted, enrolments_deleted, destinations_cleared, locks_deleted)
