"""Celery tasks: thin wrappers that take ids and call services.

Payloads never hold a phone number or a plaintext code: delivery takes the message id and
the code encrypted with the site's ``FIELD_ENCRYPTION_KEY``.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from intelliauth_sms.conf import app_settings


@shared_task(name="intelliauth_sms.deliver_sms", ignore_result=True)
def deliver_sms(message_id: str, sealed_code: str) -> str | None:
    """Deliver one queued SMS (at most once)."""
    from intelliauth_sms.services.delivery import deliver

    status = deliver(message_id, sealed_code)
    return None if status is None else str(status)


@shared_task(name="intelliauth_sms.send_security_email", ignore_result=True)
def send_security_email(user_id: Any, kind: str, context: dict[str, Any]) -> bool:
    """Email the user about a change to their SMS factors (an independent channel)."""
    from intelliauth_sms.services.notifications import send_security_email as send

    return send(user_id, kind, context)


def _apply(task: Any, *args: Any) -> None:
    options: dict[str, Any] = {}
    if app_settings.CELERY_QUEUE:
        options["queue"] = app_settings.CELERY_QUEUE
    task.apply_async(args=args, **options)


def enqueue_delivery(message_id: str, sealed_code: str) -> None:
    """Queue the delivery task (call from ``transaction.on_commit``)."""
    _apply(deliver_sms, message_id, sealed_code)


def enqueue_security_email(user_id: Any, kind: str, context: dict[str, Any]) -> None:
    """Queue a security notification email (call from ``transaction.on_commit``)."""
    _apply(send_security_email, user_id, kind, context)


@shared_task(name="intelliauth_sms.clean_up", ignore_result=True)
def clean_up() -> dict[str, int]:
    """Daily housekeeping, for Celery beat (``intelliauth_sms.clean_up``)."""
    from dataclasses import asdict

    from intelliauth_sms.services.housekeeping import clean_up as run

    return asdict(run())
