"""Where a tenant's SMS money goes: the console's Destinations page (issue 10).

Per country and per tripped prefix, over the last 24 hours and 7 days: sends, verified
codes, conversion and spend; refusals by reason; the breaker's state; and the hourly sends
and conversion of the last day for a small chart. A handful of aggregate queries over the
tenant's indexed time range, whatever the table's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from intelliauth_sms.models import (
    AuditEvent,
    CodeState,
    EventType,
    MessageStatus,
    Outcome,
    PrefixBreaker,
    PumpingProtection,
    SmsMessage,
    Tenant,
    TenantPolicy,
)
from intelliauth_sms.services.audit_catalogue import REFUSAL_EVENTS as SEND_REFUSALS

WINDOWS = {"day": timedelta(hours=24), "week": timedelta(days=7)}
#: Refusals of a send: the console's (Today counts them too) and refused recoveries.
REFUSAL_EVENTS = (*SEND_REFUSALS, EventType.RECOVERY_REFUSED)
_VERIFIED = Count("pk", filter=Q(code__state=CodeState.USED))
# From the providers' delivery reports: a destination whose SMS are delivered but whose
# codes are never typed back is the pumping pattern (the fraudster's numbers do receive).
_DELIVERED = Count("pk", filter=Q(status=MessageStatus.DELIVERED))
_NOT_DELIVERED = Count("pk", filter=Q(status__in=[MessageStatus.UNDELIVERED, MessageStatus.FAILED]))


@dataclass
class Row:
    """Sends, verified codes and spend of one country or prefix in one window."""

    sends: int = 0
    verified: int = 0
    spend: Decimal = Decimal("0")
    #: Refused sends by failure code (countries only).
    refused: dict[str, int] = field(default_factory=dict)
    #: Sends the provider reported delivered, and sends it reported undelivered or that
    #: failed (countries only).
    delivered: int = 0
    not_delivered: int = 0

    @property
    def conversion(self) -> int | None:
        """Verified codes as a whole percentage of sends (``None`` without sends)."""
        return None if not self.sends else round(100 * self.verified / self.sends)


@dataclass
class BreakerRow:
    """One tripped prefix: its breaker, what that means for sends now, and its figures."""

    breaker: PrefixBreaker
    #: ``paused`` (sends refused), ``monitoring`` (tripped, sends go on: monitor mode or a
    #: prefix marked monitor only), ``cleared`` or ``closed``.
    state: str
    day: Row
    week: Row


def breaker_state(breaker: PrefixBreaker, policy: TenantPolicy | None, now: datetime) -> str:
    """What a breaker means for the tenant's sends to its prefix now (see ``BreakerRow``)."""
    if breaker.paused_until is not None and breaker.paused_until > now:
        mode = policy.pumping_protection if policy else PumpingProtection.ENFORCE
        enforcing = mode == PumpingProtection.ENFORCE and not breaker.monitor_only
        return "paused" if enforcing else "monitoring"
    return "cleared" if breaker.cleared_at else "closed"


@dataclass
class Destinations:
    """Everything the page shows for one tenant."""

    countries: dict[str, dict[str, Row]] = field(default_factory=dict)
    #: Per country: refusals by failure code in the last 24 hours and 7 days.
    country_refusals: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    refusals: dict[str, dict[str, int]] = field(default_factory=dict)
    breakers: list[BreakerRow] = field(default_factory=list)
    hourly: list[tuple[datetime, int, int]] = field(default_factory=list)

    @property
    def refusal_rows(self) -> list[tuple[str, int, int]]:
        """``(failure code, last 24 hours, last 7 days)``, most frequent first."""
        week, day = self.refusals.get("week", {}), self.refusals.get("day", {})
        return sorted(
            ((code, day.get(code, 0), n) for code, n in week.items()), key=lambda r: -r[2]
        )


def _rows_by_country(tenant: Tenant, since: datetime) -> dict[str, Row]:
    grouped = (
        SmsMessage.objects.filter(tenant=tenant, created_at__gte=since)
        .values("country")
        .annotate(
            sends=Count("pk"),
            verified=_VERIFIED,
            spend=Sum("unit_cost"),
            delivered=_DELIVERED,
            not_delivered=_NOT_DELIVERED,
        )
    )
    return {
        g["country"]: Row(
            g["sends"],
            g["verified"],
            g["spend"] or Decimal("0"),
            delivered=g["delivered"],
            not_delivered=g["not_delivered"],
        )
        for g in grouped
    }


def destinations(tenant: Tenant, now: datetime | None = None) -> Destinations:
    """The Destinations page's figures for ``tenant`` as of ``now``.

    Reads ``tenant.policy`` for the breakers' states: select it with the tenant.
    """
    now = now or timezone.now()
    report = Destinations()
    per_window = {name: _rows_by_country(tenant, now - span) for name, span in WINDOWS.items()}
    for name, span in WINDOWS.items():
        by_country = (
            AuditEvent.objects.filter(
                tenant=tenant,
                created_at__gte=now - span,
                outcome=Outcome.FAILURE,
                event_type__in=REFUSAL_EVENTS,
            )
            .values("detail__country", "failure_code")
            .annotate(n=Count("pk"))
        )
        report.refusals[name] = {}
        for c in by_country:
            code, n = c["failure_code"], c["n"]
            report.refusals[name][code] = report.refusals[name].get(code, 0) + n
            if c["detail__country"]:
                per = report.country_refusals.setdefault(str(c["detail__country"]), {})
                per.setdefault(name, {})[code] = n
    countries = set().union(*per_window.values(), report.country_refusals)
    for country in sorted(countries):
        report.countries[country] = {}
        for name, rows in per_window.items():
            row = rows.get(country, Row())
            row.refused = report.country_refusals.get(country, {}).get(name, {})
            report.countries[country][name] = row
    tripped = list(
        PrefixBreaker.objects.filter(tenant=tenant).exclude(prefix="").order_by("-tripped_at")
    )
    stats: dict[str, tuple[Row, Row]] = {}
    if tripped:
        # Both windows in one pass over the week: the last day is a filtered aggregate.
        last_day = Q(created_at__gte=now - WINDOWS["day"])
        grouped_prefixes: Any = (
            SmsMessage.objects.filter(
                tenant=tenant,
                prefix_hash__in=[b.prefix_hash for b in tripped],
                created_at__gte=now - WINDOWS["week"],
            )
            .values("prefix_hash")
            .annotate(
                sends=Count("pk"),
                verified=_VERIFIED,
                spend=Sum("unit_cost"),
                day_sends=Count("pk", filter=last_day),
                day_verified=Count("pk", filter=last_day & Q(code__state=CodeState.USED)),
                day_spend=Sum("unit_cost", filter=last_day),
            )
        )
        stats = {
            g["prefix_hash"]: (
                Row(g["day_sends"], g["day_verified"], g["day_spend"] or Decimal("0")),
                Row(g["sends"], g["verified"], g["spend"] or Decimal("0")),
            )
            for g in grouped_prefixes
        }
    policy: TenantPolicy | None = getattr(tenant, "policy", None)
    for b in tripped:
        day, week = stats.get(b.prefix_hash, (Row(), Row()))
        report.breakers.append(BreakerRow(b, breaker_state(b, policy, now), day, week))
    hours = (
        SmsMessage.objects.filter(tenant=tenant, created_at__gte=now - WINDOWS["day"])
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(sends=Count("pk"), verified=_VERIFIED)
        .order_by("hour")
    )
    report.hourly = [(h["hour"], h["sends"], h["verified"]) for h in hours]
    return report


def chart_svg(hourly: list[tuple[datetime, int, int]], now: datetime, width: int = 720) -> str:
    """An inline SVG of the last 24 hours: sends per hour as bars, conversion as a line.

    Drawn here (no JavaScript, no CDN): numbers only, no user data.
    """
    height, pad, hours = 160, 24, 24
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    by_hour = {h.replace(minute=0, second=0, microsecond=0): (s, v) for h, s, v in hourly}
    series = [by_hour.get(start + timedelta(hours=i), (0, 0)) for i in range(hours)]
    peak = max([s for s, _v in series] + [1])
    slot = (width - 2 * pad) / hours
    bars, points = [], []
    for i, (sends, verified) in enumerate(series):
        x = pad + i * slot
        bar = (height - 2 * pad) * sends / peak
        bars.append(
            f'<rect x="{x + 1:.1f}" y="{height - pad - bar:.1f}" width="{slot - 2:.1f}" '
            f'height="{bar:.1f}" class="iasms-bar"><title>{sends}</title></rect>'
        )
        if sends:
            rate = verified / sends
            y = height - pad - (height - 2 * pad) * rate
            points.append(f"{x + slot / 2:.1f},{y:.1f}")
    line = (
        f'<polyline points="{" ".join(points)}" class="iasms-line" fill="none"/>' if points else ""
    )
    # Outside the f-string, where xgettext finds it.
    label = escape(_("Sends per hour and conversion over the last 24 hours"))
    return (
        f'<svg class="iasms-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{label}">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'class="iasms-axis"/>{"".join(bars)}{line}</svg>'
    )
