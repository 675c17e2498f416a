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

from intelliauth_sms.models import (
    AuditEvent,
    CodeState,
    EventType,
    Outcome,
    PrefixBreaker,
    SmsMessage,
    Tenant,
)

WINDOWS = {"day": timedelta(hours=24), "week": timedelta(days=7)}
#: Refusals of a send, by the event that records them.
REFUSAL_EVENTS = (
    EventType.SMS_REFUSED,
    EventType.ENROLMENT_REFUSED,
    EventType.FLOW_STEP_REFUSED,
    EventType.RECOVERY_REFUSED,
)
_VERIFIED = Count("pk", filter=Q(code__state=CodeState.USED))


@dataclass
class Row:
    """Sends, verified codes and spend of one country or prefix in one window."""

    sends: int = 0
    verified: int = 0
    spend: Decimal = Decimal("0")
    #: Refused sends by failure code (countries only).
    refused: dict[str, int] = field(default_factory=dict)

    @property
    def conversion(self) -> int | None:
        """Verified codes as a whole percentage of sends (``None`` without sends)."""
        return None if not self.sends else round(100 * self.verified / self.sends)


@dataclass
class Destinations:
    """Everything the page shows for one tenant."""

    countries: dict[str, dict[str, Row]] = field(default_factory=dict)
    #: Per country: refusals by failure code in the last 24 hours and 7 days.
    country_refusals: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    refusals: dict[str, dict[str, int]] = field(default_factory=dict)
    breakers: list[tuple[PrefixBreaker, Row]] = field(default_factory=list)
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
        .annotate(sends=Count("pk"), verified=_VERIFIED, spend=Sum("unit_cost"))
    )
    return {
        g["country"]: Row(g["sends"], g["verified"], g["spend"] or Decimal("0")) for g in grouped
    }


def destinations(tenant: Tenant, now: datetime | None = None) -> Destinations:
    """The Destinations page's figures for ``tenant`` as of ``now``."""
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
    stats: dict[str, Row] = {}
    if tripped:
        grouped_prefixes: Any = (
            SmsMessage.objects.filter(
                tenant=tenant,
                prefix_hash__in=[b.prefix_hash for b in tripped],
                created_at__gte=now - WINDOWS["day"],
            )
            .values("prefix_hash")
            .annotate(sends=Count("pk"), verified=_VERIFIED, spend=Sum("unit_cost"))
        )
        stats = {
            g["prefix_hash"]: Row(g["sends"], g["verified"], g["spend"] or Decimal("0"))
            for g in grouped_prefixes
        }
    report.breakers = [(b, stats.get(b.prefix_hash, Row())) for b in tripped]
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
    return (
        f'<svg class="iasms-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Sends per hour and conversion over the last 24 hours">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'class="iasms-axis"/>{"".join(bars)}{line}</svg>'
    )
