"""The CSV export of audit events and the one-line reading of an event's detail, holding at
most the last 4 digits of a number."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from intelliauth_sms.models import AuditEvent, EventType
from intelliauth_sms.services.number_screening import mask_numbers


def _short(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_short(v)}" for k, v in value.items())
    if value == "":
        return '""'
    return str(value)


def describe_detail(event: AuditEvent) -> str:
    """A one-line reading of an event's ``detail`` (free text masked, see ``mask_numbers``)."""
    detail = event.detail or {}
    if event.event_type == EventType.POLICY_CHANGED and "field" in detail:
        where = detail.get("target", "")
        if detail.get("key"):
            where = f"{where} {detail['key']}"
        old, new = detail.get("old"), detail.get("new")
        if detail["field"] == "row" and old is None:
            text = f"{where}: added ({_short(new)})"
        elif detail["field"] == "row" and new is None:
            text = f"{where}: deleted ({_short(old)})"
        else:
            text = f"{where}: {detail['field']} {_short(old)} → {_short(new)}"
    else:
        text = "; ".join(f"{key}: {_short(value)}" for key, value in detail.items())
    return mask_numbers(text)


AUDIT_CSV_COLUMNS = [
    "created_at",
    "event_type",
    "outcome",
    "failure_code",
    "recovery",
    "purpose",
    "user",
    "actor",
    "tenant",
    "ip_address",
    "phone_last4",
    "detail",
]

# A cell a spreadsheet would run as a formula (CSV injection): quote it with a "'".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def audit_csv_header() -> list[str]:
    return list(AUDIT_CSV_COLUMNS)


def audit_csv_row(event: AuditEvent) -> list[str]:
    """One exported event: names, not ids; the last 4 digits, never more of a number."""
    return [
        _cell(value)
        for value in (
            event.created_at.astimezone(UTC).isoformat(),
            event.event_type,
            event.outcome,
            event.failure_code,
            "yes" if event.is_recovery else "no",
            event.purpose,
            event.user.get_username() if event.user else "",
            event.actor.get_username() if event.actor else "",
            event.tenant.slug if event.tenant else "",
            event.ip_address or "",
            event.phone_last4,
            describe_detail(event),
        )
    ]
