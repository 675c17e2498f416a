"""SMS account recovery to a verified backup phone (the guide's last section; issue 8).

A sensitive flow and a frequent target of social engineering, so:

1. Re-proof first (SECURITY.md 14-15): the password, plus the security answers where the
   tenant requires them. An unknown username, a wrong password and wrong answers get the
   same ``invalid_credentials`` after the same work (the hasher runs for unknown users
   too); failed re-proofs are limited per username and per IP (``password_attempts``,
   the counts the drop-in sign-in keeps), the same whether or not the account exists.
2. Policy: ``allow_sms_recovery`` and a verified backup phone, else ``recovery_not_allowed``
   (only after valid credentials) and nothing is sent.
3. A recovery is an ``AuthFlow`` of kind ``recovery``: its random id is the capability, it
   expires like a flow, and its code goes through the one send-policy gate and the one
   code core, so lockout, limits, country rules and the cost cap all apply, and the
   failed-code lockout spans recovery and sign-in.
4. The user is emailed when the recovery SMS is sent and when recovery completes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from intelliauth_sms import signals
from intelliauth_sms.client_ip import client_ip
from intelliauth_sms.exceptions import InvalidCredentials, InvalidRequest, RecoveryNotAllowed
from intelliauth_sms.models import (
    AuthFlow,
    CodePurpose,
    EventType,
    FactorPurpose,
    FlowKind,
    Outcome,
    SmsFactor,
)
from intelliauth_sms.services import audit, codes, notifications, password_attempts
from intelliauth_sms.services.context import Caller
from intelliauth_sms.services.flows import (
    claim_flow,
    get_flow,
    login_with_flow,
    start_flow,
    verify_flow_code,
)
from intelliauth_sms.services.security_answers import (
    answers_match,
    has_answers,
    offered_questions,
)
from intelliauth_sms.tenancy import default_tenant, tenant_for

#: Longest username or password read; longer input is refused before any work.
MAX_CREDENTIAL_LENGTH = 1024
_RECOVERY_KINDS = (FlowKind.RECOVERY,)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_CREDENTIAL_LENGTH:
        raise InvalidRequest(_("Enter your %(field)s.") % {"field": field})
    return value


def _find_user(username: str) -> Any | None:
    model = get_user_model()
    return model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()


def _password_ok(user: Any | None, password: str) -> bool:
    """Check the password; for an unknown or inactive user, hash it anyway (equal time)."""
    if user is None or not user.is_active:
        make_password(password)
        return False
    return bool(user.check_password(password))


def _backup_phone(user: Any) -> SmsFactor | None:
    return (
        SmsFactor.objects.filter(user=user, purpose=FactorPurpose.BACKUP)
        .order_by("created_at")
        .first()
    )


def _binds(request: HttpRequest | None, bind_to_session: bool | None) -> bool:
    if request is None or not hasattr(request, "session"):
        return False
    if bind_to_session is not None:
        return bind_to_session
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def _refuse(caller: Caller, error: RecoveryNotAllowed, reason: str) -> RecoveryNotAllowed:
    audit.record(
        EventType.RECOVERY_REFUSED,
        caller,
        outcome=Outcome.FAILURE,
        failure_code=error.code,
        purpose=CodePurpose.RECOVERY,
        detail={"reason": reason},
    )
    return error


def request_recovery(
    username: object,
    password: object,
    security_answers: object = None,
    *,
    request: HttpRequest | None = None,
    bind_to_session: bool | None = None,
) -> tuple[AuthFlow, SmsFactor, codes.IssuedCode]:
    """Re-prove the user, then send a recovery code to their verified backup phone.

    The recovery is bound to the request's browser session when ``bind_to_session`` is
    true, or (``None``) when the request carried a session cookie: a browser keeps it, and
    only that browser can complete it. A client without cookies (a token site's app) gets
    an unbound recovery whose id alone is the capability, as with ``start_flow(user)``.

    Raises ``InvalidRequest`` (malformed body), ``RateLimited`` (too many failed
    re-proofs), ``InvalidCredentials``, ``RecoveryNotAllowed`` or a gate refusal; each is
    audited and leaves no recovery behind.
    """
    typed_username = _text(username, _("username"))
    typed_password = _text(password, _("password"))
    if security_answers is not None and not isinstance(security_answers, dict):
        raise InvalidRequest(_("security_answers must be an object."))
    attempt = password_attempts.check(request, typed_username, purpose=CodePurpose.RECOVERY)
    user = _find_user(typed_username)
    tenant = tenant_for(user) if user is not None else default_tenant()
    requires_answers = tenant.policy.recovery_requires_security_answers
    password_ok = _password_ok(user, typed_password)
    # Hashed for every caller, required or not, so timing says nothing about the account.
    answers_ok = answers_match(
        user, security_answers or {}, max_checked=len(offered_questions(tenant))
    )
    answers_missing = requires_answers and user is not None and not has_answers(user)
    if not password_ok or (requires_answers and not answers_ok and not answers_missing):
        password_attempts.record_failure(attempt)
        raise InvalidCredentials()
    password_attempts.record_success(attempt)
    caller = Caller(user=user, tenant=tenant, ip=client_ip(request), request=request)
    if not tenant.policy.allow_sms_recovery:
        raise _refuse(caller, RecoveryNotAllowed(), "policy_off")
    if answers_missing:
        raise _refuse(caller, RecoveryNotAllowed(), "no_security_answers")
    backup = _backup_phone(user)
    if backup is None:
        raise _refuse(caller, RecoveryNotAllowed(), "no_backup_phone")
    with (
        audit.refusals_recorded(
            EventType.RECOVERY_REFUSED,
            caller,
            purpose=CodePurpose.RECOVERY,
            phone_last4=backup.phone_last4,
        ),
        transaction.atomic(),
    ):
        binding = request if _binds(request, bind_to_session) else None
        recovery = start_flow(user, request=binding, kind=FlowKind.RECOVERY)
        recovery.factor = backup
        recovery.save(update_fields=["factor"])
        issued = codes.issue_code(
            caller,
            purpose=CodePurpose.RECOVERY,
            subject_id=recovery.id,
            destination=backup.phone,
            new_subject=True,
        )
        audit.record(
            EventType.RECOVERY_REQUESTED,
            caller,
            purpose=CodePurpose.RECOVERY,
            phone_last4=backup.phone_last4,
            subject_id=recovery.id,
        )
        notifications.notify(
            user,
            "recovery_requested",
            {
                "phone_number_masked": backup.phone_number_masked,
                "when": timezone.now(),
                "origin": notifications.approximate_origin(caller.ip),
            },
            purpose=CodePurpose.RECOVERY,
        )
        transaction.on_commit(
            lambda: signals.recovery_requested.send(
                sender=__name__, user=user, recovery=recovery, request=request
            )
        )
    return recovery, backup, issued


def complete_recovery(
    recovery_id: object, code: object, *, request: HttpRequest | None = None
) -> AuthFlow:
    """Check the recovery code; on success the recovery is ``recovered``.

    Fires ``recovery_completed`` and emails the user. Unknown, expired or foreign ids
    answer ``not_found``; codes follow the rules of every code (TTL, once, latest only).
    """
    recovery = verify_flow_code(recovery_id, code, request=request, kinds=_RECOVERY_KINDS)
    notifications.notify(
        recovery.user,
        "recovery_completed",
        {
            "phone_number_masked": recovery.factor.phone_number_masked if recovery.factor else "",
            "when": recovery.verified_at or timezone.now(),
            "origin": notifications.approximate_origin(client_ip(request)),
        },
        purpose=CodePurpose.RECOVERY,
    )
    return recovery


def recovery_login(request: HttpRequest, recovery: AuthFlow | object) -> Any:
    """Log the recovered user into this session, once, with the session's MFA time set.

    Then send the user to re-enrol a phone. Raises ``FlowNotUsable`` for a recovery that is
    not recovered, expired, bound to another session, or already used. Returns the user.
    """
    return login_with_flow(request, recovery, kind=FlowKind.RECOVERY)


def claim_recovery(recovery: AuthFlow | object, *, request: HttpRequest | None = None) -> Any:
    """For token sites: mark a recovered recovery as used, once, and return its user.

    The site then issues a token whose MFA time is now and asks the user to re-enrol.
    Raises ``FlowNotUsable`` like ``recovery_login``.
    """
    return claim_flow(recovery, request, kind=FlowKind.RECOVERY).user


def get_recovery(recovery_id: object, *, request: HttpRequest | None = None) -> AuthFlow:
    """A live recovery this request may use; anything else is ``not_found``."""
    return get_flow(recovery_id, request=request, kinds=_RECOVERY_KINDS)
