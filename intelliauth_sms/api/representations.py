"""Response bodies, exactly as CONTRACT §3 shapes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rest_framework.fields import DateTimeField

from intelliauth_sms.models import PendingEnrolment, SmsFactor

_datetime = DateTimeField()


def timestamp(value: datetime | None) -> str | None:
    """A datetime in DRF's configured format (ISO 8601 by default)."""
    return None if value is None else _datetime.to_representation(value)


def pending_enrolment(enrolment: PendingEnrolment, expires_at: datetime) -> dict[str, Any]:
    return {
        "id": str(enrolment.id),
        "kind": "pending",
        "phone_number_masked": enrolment.phone_number_masked,
        "expires_at": timestamp(expires_at),
    }


def enrolled_factor(factor: SmsFactor) -> dict[str, Any]:
    return {
        "id": str(factor.id),
        "phone_number_masked": factor.phone_number_masked,
        "purpose": factor.purpose,
        "created_at": timestamp(factor.created_at),
    }


def listed_factor(factor: SmsFactor) -> dict[str, Any]:
    return {**enrolled_factor(factor), "last_used_at": timestamp(factor.last_used_at)}
