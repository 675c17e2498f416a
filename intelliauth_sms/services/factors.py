"""A user's own SMS factors: list, reveal (audited), remove (audited)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from intelliauth_sms import signals
from intelliauth_sms.models import EventType, SmsFactor
from intelliauth_sms.services import audit, notifications
from intelliauth_sms.services.context import Caller
from intelliauth_sms.services.lookup import get_owned


def factors_of(user: Any) -> QuerySet[SmsFactor]:
    """The user's factors, oldest first."""
    return SmsFactor.objects.filter(user=user).order_by("created_at")


def reveal_factor(user: Any, factor_id: object, *, request: HttpRequest | None = None) -> str:
    """The full E.164 number of one of the user's own factors; records ``number_revealed``."""
    caller = Caller.for_user(user, request)
    factor = get_owned(factors_of(user), factor_id)
    audit.record(
        EventType.NUMBER_REVEALED,
        caller,
        actor=user,
        phone_last4=factor.phone_last4,
        subject_id=factor.id,
        detail={"reason": "self-service reveal"},
    )
    return str(factor.phone_number)


def remove_factor(user: Any, factor_id: object, *, request: HttpRequest | None = None) -> None:
    """Delete one of the user's own factors; audited, signalled and emailed."""
    caller = Caller.for_user(user, request)
    with transaction.atomic():
        factor = get_owned(factors_of(user).select_for_update(), factor_id)
        removed_id, last4 = factor.id, factor.phone_last4
        factor.delete()
        audit.record(
            EventType.FACTOR_REMOVED,
            caller,
            phone_last4=last4,
            subject_id=removed_id,
        )
        notifications.notify(
            user,
            "factor_removed",
            {
                "phone_number_masked": factor.phone_number_masked,
                "when": timezone.now(),
            },
        )
        transaction.on_commit(
            lambda: signals.factor_removed.send(
                sender=__name__,
                user=user,
                factor_id=removed_id,
                phone_last4=last4,
                request=request,
            )
        )
