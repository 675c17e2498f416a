"""Celery tasks: thin wrappers that take ids and call services.

Payloads never hold a phone number or a plaintext code: delivery takes the message id and
the code encrypted with the site's ``FIELD_ENCRYPTION_KEY``. Services publish these tasks by
name through ``services.dispatch``; this module imports the services, never the reverse.

Delivery is acknowledged late (``acks_late``) and given back to the broker if its worker
dies (``reject_on_worker_lost``): a task lost with a killed worker runs again elsewhere,
and the claim in ``services.delivery`` makes sure the message still goes out once.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import nullcontext
from dataclasses import asdict
from smtplib import SMTPException
from typing import Any

from celery import shared_task
from celery.exceptions import Reject
from django.utils import translation

from intelliauth_sms.services import delivery, delivery_status, dispatch, notifications, requeue

logger = logging.getLogger("intelliauth_sms.tasks")


def _language(language: str | None) -> Any:
    """Render in ``language`` (the request's), or in the worker's default if none."""
    return translation.override(language) if language else nullcontext()


#: What ``_retry_later`` returns when the broker could not take the retry (a retried task
#: run eagerly may itself return ``None``).
NOT_RETRIED: Any = object()


def _retry_later(task: Any, countdown: int, what: str) -> Any:
    """Run ``task`` again in ``countdown`` seconds; ``NOT_RETRIED`` (logged) if the broker
    cannot take the retry.

    ``throw=False``: a worker publishes the retry and ends this run; run eagerly (the demo,
    tests) the returned retry is applied at once.
    """
    try:
        return task.retry(countdown=countdown, throw=False)
    except (*dispatch.BROKER_ERRORS, Reject) as exc:
        logger.warning("%s: retry not queued, broker unreachable: %s", what, exc)
    return NOT_RETRIED


@shared_task(
    bind=True,
    name=dispatch.DELIVER_SMS,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=delivery.MAX_SEND_ATTEMPTS,
)
def deliver_sms(self: Any, message_id: str, sealed_code: str, language: str = "") -> Any:
    """Deliver one queued SMS (at most once), its text in ``language``; retried later after
    a transient failure. ``language`` is the one active in the request that sent the code;
    a task without it (queued by an earlier version) renders in the worker's default."""
    with _language(language):
        outcome = delivery.deliver(message_id, sealed_code)
    if outcome.retry_in is not None:
        retry = _retry_later(self, outcome.retry_in, f"SMS {message_id}")
        if retry is not NOT_RETRIED:
            return retry
        # The broker is down: the message is queued with its due time, the sweep sends it.
    return None if outcome.status is None else str(outcome.status)


#: Attempts at a notice after the first, and the longest wait between two (seconds).
EMAIL_MAX_RETRIES = 5
EMAIL_MAX_BACKOFF = 600


def email_retry_delay(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: 30 s doubling, capped, with jitter."""
    base = min(EMAIL_MAX_BACKOFF, 30 * 2**retries)
    return base // 2 + secrets.randbelow(base // 2 + 1)


@shared_task(
    bind=True,
    name=dispatch.SEND_SECURITY_EMAIL,
    ignore_result=True,
    max_retries=EMAIL_MAX_RETRIES,
)
def send_security_email(
    self: Any,
    user_id: Any,
    kind: str,
    context: dict[str, Any],
    purpose: str = "",
    language: str = "",
) -> Any:
    """Email the user a security notice; retried with backoff, its outcome audited.

    A notice that still fails after the last retry is recorded as ``email_failed`` and
    dropped: it never blocks or undoes the step that caused it.
    """
    try:
        with _language(language):
            sent = notifications.send_security_email(user_id, kind, context)
    except (SMTPException, OSError) as exc:
        if self.request.retries < EMAIL_MAX_RETRIES:
            # ``throw=False``: a worker schedules the retry and ends this run; run eagerly
            # (tests, the demo) Celery applies the returned retry at once, and no
            # exception escapes into the request that queued the notice.
            return self.retry(
                exc=exc, countdown=email_retry_delay(self.request.retries), throw=False
            )
        notifications.record_outcome(
            user_id, kind, purpose, error=exc, attempts=self.request.retries + 1
        )
        return False
    if sent:
        notifications.record_outcome(
            user_id, kind, purpose, error=None, attempts=self.request.retries + 1
        )
    return sent


@shared_task(
    bind=True,
    name=dispatch.APPLY_EARLY_DELIVERY_REPORT,
    ignore_result=True,
    max_retries=len(delivery_status.EARLY_REPORT_RETRY_DELAYS),
)
def apply_early_delivery_report(self: Any, provider_message_id: str) -> Any:
    """Apply a delivery report that arrived before its message's provider id was saved;
    tried again after each of ``EARLY_REPORT_RETRY_DELAYS`` while the id is still unknown,
    then dropped (it was not for one of our messages, or the send never finished)."""
    if delivery_status.apply_early_report(provider_message_id) is not None:
        return None
    retries = self.request.retries
    if retries >= len(delivery_status.EARLY_REPORT_RETRY_DELAYS):
        logger.info("Delivery report for %s dropped: no message has that id", provider_message_id)
        return None
    retry = _retry_later(
        self,
        delivery_status.EARLY_REPORT_RETRY_DELAYS[retries],
        f"Delivery report for {provider_message_id}",
    )
    return None if retry is NOT_RETRIED else retry


@shared_task(name="intelliauth_sms.sweep_queued", ignore_result=True)
def sweep_queued(after_seconds: int = requeue.SWEEP_AFTER_SECONDS) -> dict[str, int]:
    """Every minute, for Celery beat: queue again the SMS whose task was lost.

    ``after_seconds`` (a beat entry's ``kwargs``): how long past its due time a queued
    message is taken for lost; keep it above the longest time a task waits in the queue.
    """
    return asdict(requeue.sweep_queued(after_seconds=max(1, int(after_seconds))))


@shared_task(name="intelliauth_sms.clean_up", ignore_result=True)
def clean_up() -> dict[str, int]:
    """Daily housekeeping, for Celery beat (``intelliauth_sms.clean_up``)."""
    from intelliauth_sms.services.housekeeping import clean_up as run

    return asdict(run())
