"""When a request last passed the SMS step: the session's MFA time and ``MFA_VERIFIED_AT``.

CONTRACT §3 "MFA-bound access": once a user has an SMS factor, the enrolment and factor
endpoints need a request whose MFA time is set, and the sensitive ones need it recent.

The default ``MFA_VERIFIED_AT`` is :func:`session_verified_at`. The session's MFA time is
written only by :func:`mark_session_verified`, which ``complete_login``, the recovery login
and verified step-up flows call. Any other login into the session (a password-only login
page, ``login()`` in a site's own view) clears it, so a password-only session never
satisfies the rule; HTTP Basic and other non-session credentials never read the session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import SESSION_KEY as AUTH_USER_SESSION_KEY
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string

from intelliauth_sms.conf import app_settings

SESSION_KEY = "intelliauth_sms.mfa"


def session_user_id(request: Any) -> str | None:
    """The primary key (as text) of the user the request's session is signed in as."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    value = session.get(AUTH_USER_SESSION_KEY)
    return None if value is None else str(value)


def authenticated_by_session(request: Any) -> bool:
    """Whether the request's user came from its Django session, not another credential.

    A DRF ``Request`` names the authenticator that succeeded; only session authentication
    makes the session's MFA time this request's. A plain ``HttpRequest`` has its user from
    ``AuthenticationMiddleware``, which is the session.
    """
    if not hasattr(request, "successful_authenticator"):
        return True
    from rest_framework.authentication import SessionAuthentication

    return isinstance(request.successful_authenticator, SessionAuthentication)


def mark_session_verified(request: HttpRequest, user: Any, verified_at: datetime) -> None:
    """Record in ``request.session`` that ``user`` passed the SMS step at ``verified_at``."""
    request.session[SESSION_KEY] = {"user": str(user.pk), "at": verified_at.isoformat()}


def clear_session_verification(request: HttpRequest | None) -> None:
    """Forget the session's MFA time (a login that did not pass the SMS step)."""
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        del session[SESSION_KEY]


def session_verified_at(request: Any) -> datetime | None:
    """The default ``MFA_VERIFIED_AT``: the session's MFA time, for the session's own user.

    ``None`` unless the request was authenticated by its session, the session holds an MFA
    time, and both belong to the request's user.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not authenticated_by_session(request):
        return None
    stamp = request.session.get(SESSION_KEY)
    if not isinstance(stamp, dict) or stamp.get("user") != str(user.pk):
        return None
    if session_user_id(request) != str(user.pk):
        return None
    when = parse_datetime(str(stamp.get("at", "")))
    if when is None or timezone.is_naive(when):
        return None
    return when


def verified_at(request: Any) -> datetime | None:
    """When this request's credentials last passed the SMS step (``MFA_VERIFIED_AT``).

    Anything but an aware ``datetime`` from the site's callable counts as "not passed".
    """
    resolver = import_string(app_settings.MFA_VERIFIED_AT)
    when = resolver(request)
    if not isinstance(when, datetime) or timezone.is_naive(when):
        return None
    return when


def forget_on_password_login(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: a login clears the MFA time unless the SMS step set it.

    ``complete_login`` logs in first and marks the session afterwards, so only logins that
    went through the SMS step end with an MFA time.
    """
    clear_session_verification(request)
