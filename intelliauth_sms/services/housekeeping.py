"""Removing what is no longer needed: expired flows and stale enrolments with their numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

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
    # Lock rows are recreated on demand (``locks.lock_keys`` retries), so all can go.
    locks_deleted, _ = SendLock.objects.all().delete()
    return CleanupReport(flows_deleted, enrolments_deleted, destinations_cleared, locks_deleted)
