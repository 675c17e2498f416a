"""Security notification emails, over an independent channel (SECURITY.md 11 and 16).

A phone added or removed, security answers changed, a recovery SMS sent, a recovery
completed: each emails the user, from a Celery task, after the change commits. A notice
that fails to send is retried with backoff and its failure audited (``tasks.py``); it never
blocks or undoes the step that caused it. Templates ``intelliauth_sms/email/<kind>.txt``
and ``.html`` can be overridden by the site in the usual Django way.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.conf import app_settings

SUBJECTS = {
    "factor_enrolled": _("A phone number was added to your account"),
    "factor_removed": _("A phone number was removed from your account"),
    "security_answers_changed": _("Your security answers were changed"),
    "recovery_requested": _("An account recovery code was sent to your backup phone"),
    "recovery_completed": _("Your account was recovered"),
}
#: How a notice names a moment: no trailing period of its own ("p.m.." was a bug), the
#: zone spelt out.
WHEN_FORMAT = "j F Y, H:i T"


def approximate_origin(ip: str | None) -> str:
    """Where a request came from, roughly: an IPv4 /24 or an IPv6 /48, never the address."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return str(_("an unknown address"))
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _serialisable(context: dict[str, Any]) -> dict[str, Any]:
    """Task payloads are JSON: datetimes travel as ISO 8601 text."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in context.items()
    }


def notify(user: Any, kind: str, context: dict[str, Any], *, purpose: str = "") -> None:
    """Queue a security email to ``user`` after the current transaction commits.

    ``context`` may hold a masked number, never a full one, nor a code. ``purpose`` is the
    audit purpose of the sent/failed events (``"recovery"`` marks recovery notices).
    """
    if kind not in SUBJECTS:
        raise ValueError(f"Unknown notice {kind!r}.")
    if not app_settings.NOTIFY_BY_EMAIL or not getattr(user, "email", ""):
        return
    from intelliauth_sms.tasks import enqueue_security_email

    user_id, payload = user.pk, _serialisable(context)
    language = get_language()  # the notice is written in the language of this request
    transaction.on_commit(lambda: enqueue_security_email(user_id, kind, payload, purpose, language))


def _display(context: dict[str, Any]) -> dict[str, Any]:
    shown = dict(context)
    when = parse_datetime(str(context.get("when", "")))
    if when is not None:
        shown["when"] = date_format(timezone.localtime(when), WHEN_FORMAT)
    return shown


def send_security_email(user_id: Any, kind: str, context: dict[str, Any]) -> bool:
    """Render and send one notice (plain text and HTML); ``False`` if there is no address.

    Raises what the email backend raises (``SMTPException``, ``OSError``) so the task can
    retry.
    """
    user = get_user_model().objects.filter(pk=user_id).first()
    email = getattr(user, "email", "") if user else ""
    if not email or kind not in SUBJECTS:
        return False
    shown = {"user": user, **_display(context)}
    text = render_to_string(f"intelliauth_sms/email/{kind}.txt", shown)
    html = render_to_string(f"intelliauth_sms/email/{kind}.html", shown)
    message = EmailMultiAlternatives(str(SUBJECTS[kind]), text, None, [email])
    message.attach_alternative(html, "text/html")
    message.send()
    return True


def record_outcome(
    user_id: Any, kind: str, purpose: str, *, error: BaseException | None, attempts: int
) -> None:
    """Audit a notice as ``email_sent`` or, after the last retry, ``email_failed``."""
    from intelliauth_sms.models import EventType, Outcome
    from intelliauth_sms.services import audit
    from intelliauth_sms.tenancy import tenant_for

    user = get_user_model().objects.filter(pk=user_id).first()
    detail: dict[str, Any] = {"notice": kind, "attempts": attempts}
    if error is not None:
        detail["error"] = type(error).__name__
    audit.record(
        EventType.EMAIL_FAILED if error is not None else EventType.EMAIL_SENT,
        outcome=Outcome.FAILURE if error is not None else Outcome.SUCCESS,
        purpose=purpose,
        user=user,
        tenant=tenant_for(user) if user is not None else None,
        detail=detail,
    )
