"""What the tenant admin console reads and records, outside of the admin classes.

* ``record_policy_changes``: one ``policy_changed`` audit event per changed field of a
  tenant's policy, country rules, or (for superusers) the tenant and its memberships, with
  who changed it and the old and new values, so support can answer "who loosened this
  limit?".
* ``today_summary``: the read-only "Today" numbers of one tenant.
* ``audit_csv_header`` / ``audit_csv_row``: the CSV export of audit events, holding at most
  the last 4 digits of a number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import strip_tags

from intelliauth_sms.exceptions import SmsError
from intelliauth_sms.models import (
    AuditEvent,
    EventType,
    Outcome,
    SmsUserState,
    Tenant,
    TenantPolicy,
)
from intelliauth_sms.phone import mask_last4
from intelliauth_sms.services import audit
from intelliauth_sms.services.context import Caller
from intelliauth_sms.services.policy import high_cost_spend_today


def _error_codes() -> list[str]:
    """Every stable error code of the contract (``SmsError`` subclasses), sorted."""
    seen: set[str] = set()
    pending: list[type[SmsError]] = [SmsError]
    while pending:
        cls = pending.pop()
        seen.add(cls.code)
        pending.extend(cls.__subclasses__())
    return sorted(seen)


# The failure codes an audit event can carry: the contract's error codes. A fixed list, so
# the admin's filter needs no ``SELECT DISTINCT`` over the whole audit table.
FAILURE_CODES: list[str] = _error_codes()

# Send refusals, as opposed to failed code checks.
REFUSAL_EVENTS = (EventType.SMS_REFUSED, EventType.ENROLMENT_REFUSED, EventType.FLOW_STEP_REFUSED)


# --- policy changes ---------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One changed value: ``target`` is ``tenant_policy``, ``country_rule``, ``tenant`` or
    ``membership``; ``key`` names the row within it (a country, a username) when there are
    several. ``old`` is ``None`` for an added row, ``new`` is ``None`` for a deleted one."""

    target: str
    field: str
    old: Any
    new: Any
    key: str = ""


def plain(value: Any) -> Any:
    """A JSON-friendly form of a model field value (decimals as strings)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record_policy_changes(
    actor: Any, tenant: Tenant, changes: Iterable[FieldChange], *, ip: str | None = None
) -> list[AuditEvent]:
    """Record one ``policy_changed`` event per change, with the actor and old/new values.

    Call it in the transaction that saves the change, so both commit or neither.
    """
    events = []
    for change in changes:
        detail: dict[str, Any] = {
            "target": change.target,
            "field": change.field,
            "old": plain(change.old),
            "new": plain(change.new),
        }
        if change.key:
            detail["key"] = change.key
        events.append(
            audit.record(EventType.POLICY_CHANGED, actor=actor, tenant=tenant, ip=ip, detail=detail)
        )
    return events


# --- whose users ------------------------------------------------------------------------


def user_ids_matching(term: str, limit: int = 100) -> list[int]:
    """Ids of the users a console search term names: username or email, exactly (any
    case), or usernames starting with it."""
    term = term.strip()
    if not term:
        return []
    user_model = get_user_model()
    username = user_model.USERNAME_FIELD
    email = user_model.get_email_field_name()
    query = Q(**{f"{username}__iexact": term}) | Q(**{f"{username}__istartswith": term})
    if any(f.name == email for f in user_model._meta.get_fields()):
        query |= Q(**{f"{email}__iexact": term})
    return list(user_model._default_manager.filter(query).values_list("pk", flat=True)[:limit])


# --- today --------------------------------------------------------------------------------


def day_start(now: datetime) -> datetime:
    """00:00 UTC of ``now``'s UTC day: the day of the high-cost cap, and of "Today"."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class TodaySummary:
    """What happened in a tenant since 00:00 UTC."""

    tenant: Tenant
    policy: TenantPolicy
    since: datetime
    sends: int = 0
    sends_failed: int = 0
    refusals: list[tuple[str, int]] = field(default_factory=list)
    failed_checks: list[tuple[str, int]] = field(default_factory=list)
    lockouts_started: int = 0
    sms_disabled: int = 0
    unlocks: int = 0
    locked_now: int = 0
    disabled_now: int = 0
    high_cost_spend: Decimal = Decimal("0")
    recovery_events: int = 0
    recovery_failures: int = 0
    latest_recovery: list[AuditEvent] = field(default_factory=list)
    policy_changes: list[AuditEvent] = field(default_factory=list)

    @property
    def refusals_total(self) -> int:
        return sum(n for _code, n in self.refusals)

    @property
    def cap(self) -> Decimal | None:
        return self.policy.daily_high_cost_cap

    @property
    def cap_used_percent(self) -> int | None:
        """Share of today's high-cost cap spent, in whole percent (``None`` without a cap)."""
        if self.cap is None:
            return None
        if self.cap == 0:
            return 100
        return int(self.high_cost_spend * 100 / self.cap)


def today_summary(tenant: Tenant, now: datetime | None = None) -> TodaySummary:
    """Sends, refusals by reason, lockouts, high-cost spend against the cap and recovery
    events of ``tenant`` since 00:00 UTC (the day of the cost cap). A handful of indexed
    queries over today's rows only."""
    now = now or timezone.now()
    since = day_start(now)
    policy, _created = TenantPolicy.objects.get_or_create(tenant=tenant)
    summary = TodaySummary(tenant=tenant, policy=policy, since=since)
    today = AuditEvent.objects.filter(tenant=tenant, created_at__gte=since)

    counts = today.values_list("event_type", "outcome", "failure_code").annotate(n=Count("id"))
    refusals: dict[str, int] = {}
    failed_checks: dict[str, int] = {}
    for event_type, outcome, failure_code, n in counts.order_by():
        if event_type == EventType.SMS_SENT:
            summary.sends += n
        elif event_type in (EventType.SMS_DELIVERY_FAILED, EventType.SMS_NOT_SENT_EXPIRED):
            summary.sends_failed += n
        elif event_type in REFUSAL_EVENTS and outcome == Outcome.FAILURE:
            refusals[failure_code] = refusals.get(failure_code, 0) + n
        elif event_type == EventType.CODE_CHECKED and outcome == Outcome.FAILURE:
            failed_checks[failure_code] = failed_checks.get(failure_code, 0) + n
        elif event_type == EventType.LOCKOUT_STARTED:
            summary.lockouts_started += n
        elif event_type == EventType.SMS_DISABLED:
            summary.sms_disabled += n
        elif event_type == EventType.USER_UNLOCKED:
            summary.unlocks += n
    summary.refusals = sorted(refusals.items(), key=lambda item: (-item[1], item[0]))
    summary.failed_checks = sorted(failed_checks.items(), key=lambda item: (-item[1], item[0]))

    recovery = today.filter(is_recovery=True)
    recovery_counts = recovery.aggregate(
        total=Count("id"), failures=Count("id", filter=Q(outcome=Outcome.FAILURE))
    )
    summary.recovery_events = recovery_counts["total"]
    summary.recovery_failures = recovery_counts["failures"]
    summary.latest_recovery = list(recovery.select_related("user")[:10])
    summary.policy_changes = list(
        AuditEvent.objects.filter(tenant=tenant, event_type=EventType.POLICY_CHANGED)
        .filter(created_at__gte=now - timedelta(days=7))
        .select_related("actor")[:10]
    )

    states = SmsUserState.objects.filter(tenant=tenant)
    lock_counts = states.aggregate(
        locked=Count("pk", filter=Q(locked_until__gt=now, disabled_at__isnull=True)),
        disabled=Count("pk", filter=Q(disabled_at__isnull=False)),
    )
    summary.locked_now = lock_counts["locked"]
    summary.disabled_now = lock_counts["disabled"]
    summary.high_cost_spend = high_cost_spend_today(Caller(user=None, tenant=tenant), now)
    return summary


# --- free text and the CSV export -------------------------------------------------------

# What a person reading a reason would still see as a phone number: seven or more digits
# with only separators between them, whatever the separators ("0791 - - 1123 - - 456"),
# once markup, invisible characters, other scripts' digits and letters standing in for
# digits ("O79II 123456") are read as a person would. Ticket numbers shorter than that stay.
_SEPARATORS = r"\s\-\u2010-\u2015\u2212./()\[\]_*,:;~'\"`"
_PHONE_LIKE = re.compile(rf"\+?\d(?:[{_SEPARATORS}]*\d){{6,}}")
# Letters that stand in for digits, read as digits only inside a word that has a digit.
_LOOKALIKES = str.maketrans("OoIli|ZzSsB", "00111122558")
_WORD = re.compile(r"[0-9A-Za-z|]+")


def _digits_read_as_ascii(text: str) -> str:
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)


def _lookalikes_in_numbers(word: re.Match[str]) -> str:
    found = word.group(0)
    return found.translate(_LOOKALIKES) if any(c.isdigit() for c in found) else found


def read_as_a_person_would(text: str) -> str:
    """``text`` as it reads on screen: tags dropped, invisible characters removed, every
    script's digits as ASCII digits, and look-alike letters inside numbers as digits."""
    visible = unicodedata.normalize("NFKC", strip_tags(text))
    visible = "".join(c for c in visible if unicodedata.category(c) != "Cf")
    return _WORD.sub(_lookalikes_in_numbers, _digits_read_as_ascii(visible))


def looks_like_phone_number(text: str) -> bool:
    """Whether ``text`` holds something a person could read as a full phone number."""
    return bool(_PHONE_LIKE.search(read_as_a_person_would(text)))


def mask_numbers(text: str) -> str:
    """``text`` with every phone-like run masked down to its last 4 digits.

    Text with nothing phone-like comes back unchanged; otherwise the masked text is the
    normalised reading (``read_as_a_person_would``), so no disguised number survives.
    """

    def mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return mask_last4(digits[-4:])

    readable = read_as_a_person_would(text)
    if not _PHONE_LIKE.search(readable):
        return text
    return _PHONE_LIKE.sub(mask, readable)


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
