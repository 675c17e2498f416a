"""Celery tasks: thin wrappers that take ids and call services.

Payloads never hold a phone number or a plaintext code: delivery takes the message id and
the code encrypted with the site's ``FIELD_ENCRYPTION_KEY``.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import nullcontext
from smtplib import SMTPException
from typing import Any

from celery import shared_task
from django.utils import translation
from kombu.exceptions import OperationalError

from intelliauth_sms.conf import app_settings

logger = logging.getLogger("intelliauth_sms.tasks")


@shared_task(name="intelliauth_sms.deliver_sms", ignore_result=True)
def deliver_sms(message_id: str, sealed_code: str, language: str | None = None) -> str | None:
    """Deliver one queued SMS (at most once), its text in ``language``.

    ``language`` is the one active in the request that sent the code; a task queued by a
    version without it (``None``) renders in the worker's default language.
    """
    from intelliauth_sms.services.delivery import deliver

    with translation.override(language) if language else nullcontext():
        status = deliver(message_id, sealed_code)
    return None if status is None else str(status)


#: Attempts at a notice after the first, and the longest wait between two (seconds).
EMAIL_MAX_RETRIES = 5
EMAIL_MAX_BACKOFF = 600


def email_retry_delay(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: 30 s doubling, capped, with jitter."""
    base = min(EMAIL_MAX_BACKOFF, 30 * 2**retries)
    return base // 2 + secrets.randbelow(base // 2 + 1)


@shared_task(
    bind=True,
    name="intelliauth_sms.send_security_email",
    ignore_result=True,
    max_retries=EMAIL_MAX_RETRIES,
)
def send_security_email(
    self: Any,
    user_id: Any,
    kind: str,
    context: dict[str, Any],
    purpose: str = "",
    language: str | None = None,
) -> Any:
    """Email the user a security notice; retried with backoff, its outcome audited.

    The notice is written in ``language``, the one active when the change was made
    (``None``, from a task queued by an older version: the worker's default).

    A notice that still fails after the last retry is recorded as ``email_failed`` and
    dropped: it never blocks or undoes the step that caused it.
    """
    from intelliauth_sms.services.notifications import record_outcome
    from intelliauth_sms.services.notifications import send_security_email as send

    try:
        with translation.override(language) if language else nullcontext():
            sent = send(user_id, kind, context)
    except (SMTPException, OSError) as exc:
        if self.request.retries < EMAIL_MAX_RETRIES:
            # ``throw=False``: a worker schedules the retry and ends this run; run eagerly
            # (tests, the demo) Celery applies the returned retry at once, and no
            # exception escapes into the request that queued the notice.
            return self.retry(
                exc=exc, countdown=email_retry_delay(self.request.retries), throw=False
            )
        record_outcome(user_id, kind, purpose, error=exc, attempts=self.request.retries + 1)
        return False
    if sent:
        record_outcome(user_id, kind, purpose, error=None, attempts=self.request.retries + 1)
    return sent


#: What publishing a task raises when the broker cannot be reached.
BROKER_ERRORS = (OperationalError, ConnectionError, TimeoutError)
#: Publishing tries once more, at once, then gives up: a request must not hang on a
#: broker that is down (the message stays ``queued`` for a later sweep).
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}


def _apply(task: Any, *args: Any) -> bool:
    """Publish ``task``; ``False`` (logged) when the broker cannot be reached.

    Run eagerly (tests, the demo) there is no broker, and a task's own errors propagate.
    """
    options: dict[str, Any] = {"retry": True, "retry_policy": PUBLISH_RETRY_POLICY}
    if app_settings.CELERY_QUEUE:
        options["queue"] = app_settings.CELERY_QUEUE
    if task.app.conf.task_always_eager:
        task.apply_async(args=args, **options)
        return True
    try:
        task.apply_async(args=args, **options)
    except BROKER_ERRORS as exc:
        logger.warning("Task %s not queued, the broker is unreachable: %s", task.name, exc)
        return False
    return True


def enqueue_delivery(message_id: str, sealed_code: str, language: str | None = None) -> bool:
    """Queue the delivery task (call from ``transaction.on_commit``).

    The SMS is written in ``language``, by default the language active now (the request's).
    ``False`` when the broker cannot be reached: the message stays ``queued``.
    """
    return _apply(deliver_sms, message_id, sealed_code, language or translation.get_language())


def enqueue_security_email(
    user_id: Any, kind: str, context: dict[str, Any], purpose: str = "", language: str | None = None
) -> bool:
    """Queue a security notification email (call from ``transaction.on_commit``).

    Written in ``language``, by default the language active now (the request's).
    """
    return _apply(
        send_security_email,
        user_id,
        kind,
        context,
        purpose,
        language or translation.get_language(),
    )


@shared_task(name="intelliauth_sms.clean_up", ignore_result=True)
def clean_up() -> dict[str, int]:
    """Daily housekeeping, for Celery beat (``intelliauth_sms.clean_up``)."""
    from dataclasses import asdict

    from intelliauth_sms.services.housekeeping import clean_up as run

    return asdict(run())
