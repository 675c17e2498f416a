"""The console's read-only "Today" numbers of one tenant."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from intelliauth_sms.models import (
    AuditEvent,
    EventType,
    Outcome,
    SmsUserState,
    Tenant,
    TenantPolicy,
)
from intelliauth_sms.services.audit_catalogue import REFUSAL_EVENTS
from intelliauth_sms.services.spend import high_cost_spend_on


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
    summary.high_cost_spend = high_cost_spend_on(tenant, now)
    return summary


# What a person reading a reason would still see as a phone number: seven or more digits
# with only separators between them, whatever the separators ("0791 - - 1123 - - 456"),
# once markup, invisible characters, other scripts' digits and letters standing in for
# digits ("O79II 123456") are read as a person would. Ticket numbers shorter than that stay.
