"""The SMS step of sign-in: start a flow, send its code, check it, log the user in."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from intelliauth_sms import mfa, signals
from intelliauth_sms.conf import app_settings
from intelliauth_sms.crypto import hashes_match, keyed_hash
from intelliauth_sms.exceptions import CodeExpired, InvalidRequest, NotFound
from intelliauth_sms.models import (
    AuthFlow,
    CodePurpose,
    EventType,
    FactorPurpose,
    FlowKind,
    SmsFactor,
)
from intelliauth_sms.services import audit, codes, sql
from intelliauth_sms.services.access import has_sign_in_factor
from intelliauth_sms.services.context import Caller
from intelliauth_sms.services.lookup import read_owned
from intelliauth_sms.services.policy import current_policy
from intelliauth_sms.services.reads import read_one
from intelliauth_sms.tenancy import tenant_for

_SESSION_KEY = "intelliauth_sms.flows"
#: The kinds the flow endpoints serve; recovery flows have their own endpoints.
STEP_KINDS = (FlowKind.SIGN_IN, FlowKind.STEP_UP)
#: What each kind's successful SMS step records and is audited as.
_PURPOSE = {
    FlowKind.SIGN_IN: CodePurpose.AUTHENTICATION,
    FlowKind.STEP_UP: CodePurpose.AUTHENTICATION,
    FlowKind.RECOVERY: CodePurpose.RECOVERY,
}
_VERIFIED_EVENT = {
    FlowKind.SIGN_IN: EventType.MFA_VERIFIED,
    FlowKind.STEP_UP: EventType.REAUTHENTICATED,
    FlowKind.RECOVERY: EventType.RECOVERY_COMPLETED,
}


class FlowNotUsable(Exception):
    """``complete_login`` refused: the flow is not verified, expired, or already used."""


def _binding_secret(request: HttpRequest, flow_id: str, *, create: bool) -> str | None:
    """The per-flow secret kept in the session (created when ``create``)."""
    secrets_by_flow: dict[str, str] = request.session.get(_SESSION_KEY, {})
    if flow_id not in secrets_by_flow and create:
        # Keep the session small: only flows still alive matter, and ten is plenty.
        secrets_by_flow = dict(list(secrets_by_flow.items())[-9:])
        secrets_by_flow[flow_id] = secrets.token_urlsafe(32)
        request.session[_SESSION_KEY] = secrets_by_flow
    return secrets_by_flow.get(flow_id)


def start_flow(
    user: Any, *, request: HttpRequest | None = None, kind: str = FlowKind.SIGN_IN
) -> AuthFlow:
    """Start the SMS step for ``user`` after their password was accepted.

    With ``request`` the flow is bound to its session: requests from another session
    cannot use it. Without it (token or headless sign-in) the flow id is the capability.
    """
    now = timezone.now()
    flow = AuthFlow(
        user=user,
        tenant=tenant_for(user),
        kind=kind,
        created_at=now,
        expires_at=now + timedelta(seconds=app_settings.FLOW_TTL_SECONDS),
    )
    if request is not None and hasattr(request, "session"):
        secret = _binding_secret(request, str(flow.id), create=True)
        flow.session_binding = keyed_hash("flow-session", f"{flow.id}:{secret}")
    flow.save()
    return flow


def start_step_up(user: Any, *, request: HttpRequest) -> AuthFlow:
    """Start a step-up flow for the signed-in ``user``, bound to the request's session.

    The client runs it through ``initiate_sms_step`` / ``complete_sms_step``; verifying it
    refreshes the session's MFA time. It can never be used to log in.
    """
    if not has_sign_in_factor(user):
        raise NotFound(_("No phone is enrolled for SMS codes."))
    flow = start_flow(user, request=request, kind=FlowKind.STEP_UP)
    audit.record(
        EventType.REAUTHENTICATION_STARTED,
        _caller(flow, request),
        purpose=CodePurpose.AUTHENTICATION,
        subject_id=flow.id,
    )
    return flow


def _bound_to(flow: AuthFlow, request: HttpRequest | None) -> bool:
    if not flow.session_binding:
        return True
    if request is None or not hasattr(request, "session"):
        return False
    secret = _binding_secret(request, str(flow.id), create=False)
    return secret is not None and hashes_match(
        flow.session_binding, keyed_hash("flow-session", f"{flow.id}:{secret}")
    )


def get_flow(
    flow_id: object,
    *,
    request: HttpRequest | None = None,
    lock: bool = False,
    kinds: tuple[str, ...] = STEP_KINDS,
) -> AuthFlow:
    """A live flow this request may use; unknown, expired, foreign or malformed: ``not_found``.

    ``kinds`` keeps each endpoint to its own flows: a recovery id is not a sign-in flow.
    """
    flow = read_owned(
        AuthFlow,
        flow_id,
        {"kind__in": kinds, "expires_at__gt": timezone.now()},
        related=("user", "tenant", "factor"),
        lock=lock,
    )
    if not _bound_to(flow, request):
        raise NotFound()
    return flow


def _choose_factor(flow: AuthFlow, factor_id: object | None) -> SmsFactor:
    """The flow user's sign-in factor ``factor_id``, else their first-enrolled one."""
    factors = {"user_id": flow.user_id, "purpose": FactorPurpose.MFA}
    if factor_id is not None:
        return read_owned(SmsFactor, factor_id, factors)
    factor = read_one(SmsFactor, factors, first_by="created_at")
    if factor is None:
        raise NotFound(_("No phone is enrolled for SMS codes."))
    return factor


def _caller(flow: AuthFlow, request: HttpRequest | None) -> Caller:
    from intelliauth_sms.client_ip import client_ip

    return Caller(user=flow.user, tenant=flow.tenant, ip=client_ip(request), request=request)


def initiate_sms_step(
    flow_id: object, *, factor_id: object | None = None, request: HttpRequest | None = None
) -> tuple[AuthFlow, SmsFactor, codes.IssuedCode]:
    """Send a code for the flow to the user's SMS factor, through the send-policy gate.

    Each call replaces the flow's previous code; at most ``auth_sms_per_hour`` per flow.
    """
    with (
        audit.refusals_recorded(
            EventType.FLOW_STEP_REFUSED, None, purpose=CodePurpose.AUTHENTICATION
        ) as refusal,
        transaction.atomic(),
    ):
        # One read of the flow, under its lock: a flow verified meanwhile sends nothing.
        flow = get_flow(flow_id, request=request, lock=True)
        caller = _caller(flow, request)
        if flow.is_verified:
            raise InvalidRequest(_("This sign-in step is already complete."))
        factor = _choose_factor(flow, factor_id)
        refusal.caller, refusal.subject_id = caller, flow.id
        refusal.phone_last4 = factor.phone_last4
        if flow.factor_id != factor.pk:
            flow.factor = factor
            sql.update_one(AuthFlow, {"id": flow.pk}, {"factor_id": factor.pk})
        issued = codes.issue_code(
            caller,
            purpose=CodePurpose.AUTHENTICATION,
            subject_id=flow.id,
            destination=factor.phone,
        )
    return flow, factor, issued


def complete_sms_step(
    flow_id: object, code: object, *, request: HttpRequest | None = None
) -> AuthFlow:
    """Check the code typed for the flow; on success the flow is verified (``mfa_verified``)."""
    flow = verify_flow_code(flow_id, code, request=request, kinds=STEP_KINDS)
    if flow.kind == FlowKind.STEP_UP:
        _refresh_session_mfa_time(flow, request)
    return flow


def verify_flow_code(
    flow_id: object, code: object, *, request: HttpRequest | None, kinds: tuple[str, ...]
) -> AuthFlow:
    """Check the code typed for a flow of one of ``kinds``; on success mark it verified.

    The one check of every flow kind (sign-in, step-up, recovery): the code core judges the
    code under the user's lock, and the verified flow is recorded, audited and signalled.
    """
    with (
        audit.refusals_recorded(EventType.CODE_CHECKED, None) as refusal,
        transaction.atomic(),
        audit.written_together(),  # the check's event and the verification's: one INSERT
    ):
        # One read of the flow, under its lock; then the typed code's format (a malformed
        # code is refused, audited and not counted, before anything is judged).
        flow = get_flow(flow_id, request=request, lock=True, kinds=kinds)
        caller = _caller(flow, request)
        purpose = _PURPOSE[FlowKind(flow.kind)]
        last4 = flow.factor.phone_last4 if flow.factor else ""
        refusal.caller, refusal.purpose, refusal.subject_id = caller, purpose, flow.id
        refusal.phone_last4 = last4
        typed = codes.normalise_code(code)
        # Judged (and audited) even on a verified flow: its code is used, so the answer is
        # ``code_expired``, or ``locked`` while the user's lockout lasts (CONTRACT §3).
        verdict = codes.check_code(
            caller,
            purpose=purpose,
            subject_id=flow.id,
            typed=typed,
            phone_last4=last4,
        )
        if verdict.error is None and flow.is_verified:
            # Unreachable while initiate refuses verified flows; never verify twice.
            verdict = codes.Verdict(
                error=CodeExpired(ttl_seconds=current_policy(caller).code_ttl_seconds)
            )
        if verdict.error is None:
            _mark_verified(caller, flow)
    verdict.raise_if_refused()
    return flow


def _refresh_session_mfa_time(flow: AuthFlow, request: HttpRequest | None) -> None:
    """A verified step-up renews the MFA time of the session it is bound to.

    Only while that session is still signed in as the flow's user: a session that logged
    out or changed user meanwhile gains nothing.
    """
    if request is None or not hasattr(request, "session") or flow.verified_at is None:
        return
    if mfa.session_user_id(request) == str(flow.user.pk):
        mfa.mark_session_verified(request, flow.user, flow.verified_at)


def _mark_verified(caller: Caller, flow: AuthFlow) -> None:
    now = timezone.now()
    flow.verified_at = now
    sql.update_one(AuthFlow, {"id": flow.pk}, {"verified_at": now})
    if flow.factor_id:
        # The factor may have been removed meanwhile (its flows' factor is then null).
        sql.update(SmsFactor, {"id": flow.factor_id}, {"last_used_at": now})
    kind = FlowKind(flow.kind)
    audit.record(
        _VERIFIED_EVENT[kind],
        caller,
        purpose=_PURPOSE[kind],
        phone_last4=flow.factor.phone_last4 if flow.factor else "",
        subject_id=flow.id,
    )
    request = caller.request
    if kind == FlowKind.RECOVERY:
        transaction.on_commit(
            lambda: signals.recovery_completed.send(
                sender=__name__, user=flow.user, recovery=flow, request=request
            )
        )
    else:
        transaction.on_commit(
            lambda: signals.mfa_verified.send(
                sender=__name__, user=flow.user, flow=flow, request=request
            )
        )


def claim_verified_flow(flow: AuthFlow | object, *, request: HttpRequest | None = None) -> Any:
    """Mark a verified, unexpired sign-in flow as used, once, and return its user.

    For sites that issue their own tokens after the SMS step (the token's MFA time is the
    moment of this call); ``complete_login`` uses it for Django sessions. Raises
    ``FlowNotUsable`` when the flow is unknown, expired, bound to another session, a
    step-up flow, not verified, or already used.
    """
    return claim_flow(flow, request, kind=FlowKind.SIGN_IN).user


def claim_flow(flow: AuthFlow | object, request: HttpRequest | None, *, kind: str) -> AuthFlow:
    """Mark a verified flow of ``kind`` as used for a login, once; ``FlowNotUsable`` else.

    Step-up flows are never of a kind that logs in.
    """
    flow_id = flow.id if isinstance(flow, AuthFlow) else flow
    with transaction.atomic():
        try:
            locked = get_flow(flow_id, request=request, lock=True, kinds=(kind,))
        except NotFound as exc:
            raise FlowNotUsable("unknown or expired flow, or not one that can log in") from exc
        if not locked.is_verified:
            raise FlowNotUsable("the SMS step is not verified")
        if locked.logged_in_at is not None:
            raise FlowNotUsable("the flow was already used to log in")
        locked.logged_in_at = timezone.now()
        locked.save(update_fields=["logged_in_at"])
        audit.record(
            EventType.RECOVERY_LOGIN if kind == FlowKind.RECOVERY else EventType.FLOW_LOGIN,
            _caller(locked, request),
            purpose=_PURPOSE[FlowKind(kind)],
            subject_id=locked.id,
        )
    return locked


def complete_login(
    request: HttpRequest, flow: AuthFlow | object, backend: str | None = None
) -> Any:
    """Log the flow's user into this Django session, once, if the flow is verified.

    Call it from the site's view once the SMS step answered ``verified``. Raises
    ``FlowNotUsable`` otherwise (see ``claim_verified_flow``). Sets the session's MFA time
    (the moment the step was verified), which MFA-bound access reads. Returns the user.
    """
    return login_with_flow(request, flow, kind=FlowKind.SIGN_IN, backend=backend)


def login_with_flow(
    request: HttpRequest, flow: AuthFlow | object, *, kind: str, backend: str | None = None
) -> Any:
    """Claim a verified flow of ``kind``, log its user in and set the session's MFA time."""
    claimed = claim_flow(flow, request, kind=kind)
    login(request, claimed.user, backend=backend)
    # After login(): its ``user_logged_in`` receiver clears any MFA time a login leaves.
    if claimed.verified_at is not None:
        mfa.mark_session_verified(request, claimed.user, claimed.verified_at)
    return claimed.user
