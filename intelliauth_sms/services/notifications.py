"""Security notification emails: a new SMS factor is a new authenticator (SECURITY.md 11)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from intelliauth_sms.conf import app_settings

SUBJECTS = {
    "factor_enrolled": "A phone number was added to your account",
    "factor_removed": "A phone number was removed from your account",
}


def notify(user: Any, kind: str, context: dict[str, Any]) -> None:
    """Queue a security email to ``user`` after the current transaction commits.

    ``context`` may hold a masked number, never a full one.
    """
    if not app_settings.NOTIFY_BY_EMAIL or not getattr(user, "email", ""):
        return
    from intelliauth_sms.tasks import enqueue_security_email

    user_id = user.pk
    transaction.on_commit(lambda: enqueue_security_email(user_id, kind, context))


def send_security_email(user_id: Any, kind: str, context: dict[str, Any]) -> bool:
    """Render and send one notification; ``False`` if the user or address is gone."""
    user = get_user_model().objects.filter(pk=user_id).first()
    email = getattr(user, "email", "") if user else ""
    if not email or kind not in SUBJECTS:
        return False
    body = render_to_string(f"intelliauth_sms/email/{kind}.txt", {"user": user, **context})
    send_mail(SUBJECTS[kind], body, None, [email])
    return True
