"""What support staff do: unlock a user, reveal a number with a reason. Always audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from intelliauth_sms.exceptions import InvalidRequest
from intelliauth_sms.models import EventType, SmsFactor, SmsUserState
from intelliauth_sms.services import audit
from intelliauth_sms.tenancy import tenant_for


def unlock_user(actor: Any, user: Any, *, reason: str = "", ip: str | None = None) -> bool:
    """Clear the user's lockout, hard-cap disablement and failure counts.

    Returns whether there was anything to clear. Records ``user_unlocked`` with the actor.
    """
    with transaction.atomic():
        state = SmsUserState.objects.select_for_update().filter(user=user).first()
        was_locked = bool(
            state
            and (
                state.locked_until
                or state.disabled_at
                or state.failed_attempts
                or state.consecutive_failures
            )
        )
        previous = (
            {
                "failed_attempts": state.failed_attempts,
                "consecutive_failures": state.consecutive_failures,
                "locked_until": state.locked_until.isoformat() if state.locked_until else None,
                "disabled_at": state.disabled_at.isoformat() if state.disabled_at else None,
            }
            if state is not None
            else {}
        )
        if state is not None:
            state.failed_attempts = 0
            state.consecutive_failures = 0
            state.locked_until = None
            state.disabled_at = None
            state.save()
        audit.record(
            EventType.USER_UNLOCKED,
            user=user,
            tenant=tenant_for(user),
            actor=actor,
            ip=ip,
            detail={"reason": reason[:500], "was_locked": was_locked, "previous": previous},
        )
    return was_locked


def reveal_for_support(actor: Any, factor: SmsFactor, *, reason: str, ip: str | None = None) -> str:
    """The full number of ``factor`` for support staff; a reason is required and recorded."""
    reason = reason.strip()
    if not reason:
        raise InvalidRequest(_("A reason is required to reveal a phone number."))
    audit.record(
        EventType.NUMBER_REVEALED,
        user=factor.user,
        tenant=factor.tenant,
        actor=actor,
        ip=ip,
        phone_last4=factor.phone_last4,
        subject_id=factor.id,
        detail={"reason": reason[:500]},
    )
    return str(factor.phone_number)
