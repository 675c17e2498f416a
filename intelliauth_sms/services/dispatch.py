"""Handing work to Celery: the one place that publishes the app's tasks, by name.

Services call this module, never ``intelliauth_sms.tasks``; the tasks import the services.
So the import graph has no cycle, and a web process publishes without importing task code.

A task registered in this process (``intelliauth_sms.tasks`` is imported at start-up, so
always, unless a site replaced the app's Celery set-up) is applied through its object, which
honours ``task_always_eager`` (the demo, the tests); otherwise it is sent by name to the
workers, who register it.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from kombu.exceptions import OperationalError

from intelliauth_sms.conf import app_settings

logger = logging.getLogger("intelliauth_sms.dispatch")

DELIVER_SMS = "intelliauth_sms.deliver_sms"
SEND_SECURITY_EMAIL = "intelliauth_sms.send_security_email"
APPLY_EARLY_DELIVERY_REPORT = "intelliauth_sms.apply_early_delivery_report"

#: What publishing a task raises when the broker cannot be reached.
BROKER_ERRORS = (OperationalError, ConnectionError, TimeoutError)
#: Publishing tries once more, at once, then gives up: a request must not hang on a
#: broker that is down (the message stays ``queued`` for the sweep).
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}


def publish(name: str, *args: Any, countdown: int | None = None) -> bool:
    """Publish task ``name`` (to run ``countdown`` seconds from now, if given); ``False``
    (logged) when the broker cannot be reached.

    Run eagerly (tests, the demo) there is no broker, a task runs at once whatever its
    countdown, and its own errors propagate.
    """
    options: dict[str, Any] = {"retry": True, "retry_policy": PUBLISH_RETRY_POLICY}
    if countdown is not None:
        options["countdown"] = countdown
    if app_settings.CELERY_QUEUE:
        options["queue"] = app_settings.CELERY_QUEUE
    app: Any = current_app
    task = app.tasks.get(name)
    if task is not None and app.conf.task_always_eager:
        if all(type(arg) is str for arg in args):  # not a subclass: JSON would change it
            # Strings come out of the broker's JSON as they went in, so the round trip
            # that an eager ``apply_async`` makes to mimic it (and the producer it takes
            # from the pool) would change nothing: about 0.15 ms of every eager send.
            task.apply(args=args)
        else:
            task.apply_async(args=args, **options)
        return True
    try:
        if task is not None:
            task.apply_async(args=args, **options)
        else:
            app.send_task(name, args=args, **options)
    except BROKER_ERRORS as exc:
        logger.warning("Task %s not queued, the broker is unreachable: %s", name, exc)
        return False
    return True


def deliver_sms(message_id: str, sealed_code: str, language: str = "") -> bool:
    """Queue the delivery of one message (call from ``transaction.on_commit``), its text in
    ``language`` (the request's; empty: the worker's default).

    ``False`` when the broker cannot be reached: the message stays ``queued``.
    """
    return publish(DELIVER_SMS, message_id, sealed_code, language)


def early_delivery_report(provider_message_id: str, countdown: int) -> bool:
    """Queue a try, ``countdown`` seconds from now, at a delivery report that arrived before
    its message's provider id was saved (``delivery_status.apply_early_report``)."""
    return publish(APPLY_EARLY_DELIVERY_REPORT, provider_message_id, countdown=countdown)


def security_email(
    user_id: Any, kind: str, context: dict[str, Any], purpose: str = "", language: str = ""
) -> bool:
    """Queue a security notification email (call from ``transaction.on_commit``), written
    in ``language`` (the request's; empty: the worker's default)."""
    return publish(SEND_SECURITY_EMAIL, user_id, kind, context, purpose, language)
