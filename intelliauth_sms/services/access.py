"""MFA-bound access (CONTRACT §3): who may use the enrolment and factor endpoints, and when.

* A user without a sign-in SMS factor may enrol a first one with a password-only login.
* Once the user has one, a request needs an MFA time (``MFA_VERIFIED_AT``): else
  ``mfa_required``.
* Sensitive actions (reveal, remove, enrolling another factor) need that time within
  ``REAUTHENTICATION_SECONDS``: else ``reauthentication_required``.

"Has an SMS factor" means a factor of purpose ``mfa``: those are what the sign-in SMS step
sends to and what a step-up can prove. A user whose only phones are backup phones signs in
with the password alone, so the rule treats them as having no factor yet.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from intelliauth_sms import mfa
from intelliauth_sms.conf import app_settings
from intelliauth_sms.exceptions import MfaRequired, ReauthenticationRequired, SmsError
from intelliauth_sms.models import EventType, FactorPurpose, Outcome, SmsFactor
from intelliauth_sms.services import audit
from intelliauth_sms.services.context import Caller
from intelliauth_sms.services.reads import exists


def has_sign_in_factor(user: Any) -> bool:
    """Whether the user has an SMS factor the sign-in step uses (purpose ``mfa``)."""
    return exists(SmsFactor, {"user_id": user.pk, "purpose": FactorPurpose.MFA})


def credit_first_factor(request: Any, user: Any, factor: SmsFactor) -> None:
    """A session that just enrolled the user's first sign-in phone has passed the SMS step.

    Typing the code sent to that phone is exactly what the SMS step proves, so the session
    gets its MFA time (``factor.created_at``) instead of being asked for another SMS at
    once. Only for session-authenticated requests (token sites issue their own tokens) and
    only for the first ``mfa`` factor: a user with a factor must already have passed the
    step to enrol another.
    """
    if factor.purpose != FactorPurpose.MFA or not mfa.authenticated_by_session(request):
        return
    if SmsFactor.objects.filter(user=user, purpose=FactorPurpose.MFA).count() == 1:
        mfa.mark_session_verified(request, user, factor.created_at)


def refusal_for(request: Any, user: Any, *, sensitive: bool) -> SmsError | None:
    """The error this request would get under the MFA-bound rule, or ``None`` if allowed."""
    if not has_sign_in_factor(user):
        return None
    when = mfa.verified_at(request)
    if when is None:
        return MfaRequired()
    window = timedelta(seconds=app_settings.REAUTHENTICATION_SECONDS)
    if sensitive and timezone.now() - when > window:
        return ReauthenticationRequired()
    return None


def require_sms_step(request: Any, user: Any, *, sensitive: bool) -> None:
    """Raise ``MfaRequired`` or ``ReauthenticationRequired`` (audited) unless allowed.

    ``request`` is what ``MFA_VERIFIED_AT`` reads: in the API, DRF's ``Request``, so a
    site's resolver can read the token its authentication class put in ``request.auth``.
    """
    error = refusal_for(request, user, sensitive=sensitive)
    if error is None:
        return
    django_request = getattr(request, "_request", request)
    audit.record(
        EventType.ACCESS_REFUSED,
        Caller.for_user(user, django_request),
        outcome=Outcome.FAILURE,
        failure_code=error.code,
        detail={"path": str(getattr(django_request, "path", ""))[:200]},
    )
    raise error
