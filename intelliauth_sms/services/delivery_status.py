"""Delivery reports: what the provider says became of a sent SMS (the status webhooks).

Statuses only move forward: queued → sending → sent → delivered / undelivered / failed.
Providers report out of order and repeat themselves (a late ``sent`` after ``delivered``,
a retried callback), so a report that is not a step forward changes nothing.

A provider can also report before the worker has saved the id its send returned. Such a
report is kept in the shared cache and a task applies it a few seconds later, retrying for
a few minutes; the worker's send path never looks for one, as nearly every delivery would
look in vain.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

from intelliauth_sms.models import EventType, MessageStatus, Outcome, SmsMessage
from intelliauth_sms.services import audit, dispatch

# How far along each status is; the final ones share the last step, so a report never
# turns one final status into another.
_PROGRESS = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.UNDELIVERED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.EXPIRED: 3,
}


#: How long a report for a provider id no message holds yet is kept: the provider can call
#: the webhook before the worker has saved the id its send returned.
EARLY_REPORT_SECONDS = 10 * 60
#: When the task holding an early report tries it: this long after the webhook, then after
#: each of these waits in turn (about five minutes in all, within ``EARLY_REPORT_SECONDS``).
EARLY_REPORT_FIRST_DELAY = 5
EARLY_REPORT_RETRY_DELAYS = (15, 60, 240)


def _report_cache() -> Any:
    # The shared cache the webhooks already use for replays (every process sees it).
    return caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]


def _early_key(provider_message_id: str) -> str:
    return f"intelliauth_sms:early-report:{provider_message_id[:128]}"


def record_delivery_report(
    provider_message_id: str, status: MessageStatus, *, provider_error: str = "", provider: str
) -> bool:
    """Apply a provider's report to the message it sent as ``provider_message_id``.

    Returns whether anything changed. A final report (delivered, undelivered, failed)
    records an audit event with the provider's error code in its detail. A report for an
    id no message holds yet is kept, and tried again later by the task
    ``apply_early_delivery_report`` (through ``apply_early_report``).
    """
    if not provider_message_id:
        return False
    changed = _apply(provider_message_id, status, provider_error, provider)
    if changed is not None:
        return changed
    # Not saved yet (or not ours). Of two early reports, the one further along is kept: a
    # late ``sent`` must not replace a ``delivered`` that came before it.
    cache, key = _report_cache(), _early_key(provider_message_id)
    kept = cache.get(key)
    if isinstance(kept, dict) and _PROGRESS[MessageStatus(kept["status"])] >= _PROGRESS[status]:
        return False
    cache.set(
        key,
        {"status": status.value, "provider_error": provider_error, "provider": provider},
        EARLY_REPORT_SECONDS,
    )
    transaction.on_commit(
        lambda: dispatch.early_delivery_report(provider_message_id, EARLY_REPORT_FIRST_DELAY)
    )
    return False


def apply_early_report(provider_message_id: str) -> bool | None:
    """Apply a report kept because it arrived before the worker saved ``provider_message_id``.

    ``True`` if it changed the message, ``False`` if there was nothing (left) to apply,
    ``None`` if the id is still unknown: the caller may try again later.
    """
    cache = _report_cache()
    key = _early_key(provider_message_id)
    early = cache.get(key)
    if not isinstance(early, dict):
        return False
    changed = _apply(
        provider_message_id,
        MessageStatus(early["status"]),
        str(early.get("provider_error") or ""),
        str(early.get("provider") or ""),
    )
    if changed is not None:
        cache.delete(key)
    return changed


def _apply(
    provider_message_id: str, status: MessageStatus, provider_error: str, provider: str
) -> bool | None:
    """The report applied to its message: whether it changed it; ``None``: no such message."""
    with transaction.atomic():
        message = (
            SmsMessage.objects.select_for_update()
            .select_related("user", "tenant")
            .filter(provider_message_id=provider_message_id)
            .first()
        )
        if message is None:
            return None
        if _PROGRESS[status] <= _PROGRESS[MessageStatus(message.status)]:
            return False
        message.status = status
        fields = ["status"]
        if provider_error:
            message.provider_error = provider_error[:64]
            fields.append("provider_error")
        message.save(update_fields=fields)
        if status in (MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED):
            delivered = status == MessageStatus.DELIVERED
            audit.record_for_message(
                EventType.SMS_DELIVERED if delivered else EventType.SMS_UNDELIVERED,
                message,
                outcome=Outcome.SUCCESS if delivered else Outcome.FAILURE,
                detail={
                    "provider": provider,
                    "status": status.value,
                    "provider_error": message.provider_error,
                },
            )
    return True
