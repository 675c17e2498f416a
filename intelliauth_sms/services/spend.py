"""The daily high-cost spend: one row per tenant and UTC day, raised by each high-cost send.

``add_high_cost_spend`` adds a send's price and returns the day's new total in one
statement (``upsert.upsert_locked`` with ``add``), which also locks the row until
the send's transaction ends: concurrent sends are added one after the other, and a send
refused for the cap rolls its addition back with it. The cap check is therefore one row,
however many messages the day has seen.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from django.db.models import F

from intelliauth_sms.models import DailySpend, Tenant
from intelliauth_sms.services.upsert import returning_supported, upsert_locked

#: Prices have 4 decimal places (``CountryRule.unit_cost``); so has the running total.
CENTS = Decimal("0.0001")


def utc_day(now: datetime) -> date:
    """The UTC day of ``now``: the day of the high-cost cap."""
    return now.astimezone(UTC).date()


def add_high_cost_spend(tenant: Tenant, now: datetime, amount: Decimal) -> Decimal:
    """Add ``amount`` to the tenant's spend of ``now``'s UTC day; the new total.

    Call inside the send's transaction: the row stays locked until it ends.
    """
    day = utc_day(now)
    if returning_supported():
        row = upsert_locked(
            DailySpend,
            {"tenant": tenant.pk, "day": day, "high_cost_spend": amount},
            conflict=["tenant", "day"],
            add="high_cost_spend",
        )
        return Decimal(str(row.high_cost_spend)).quantize(CENTS)
    DailySpend.objects.get_or_create(tenant=tenant, day=day)
    row = DailySpend.objects.select_for_update().get(tenant=tenant, day=day)
    DailySpend.objects.filter(pk=row.pk).update(high_cost_spend=F("high_cost_spend") + amount)
    return (row.high_cost_spend + amount).quantize(CENTS)


def high_cost_spend_on(tenant: Tenant, now: datetime) -> Decimal:
    """The tenant's high-cost spend of ``now``'s UTC day so far."""
    total = (
        DailySpend.objects.filter(tenant=tenant, day=utc_day(now))
        .values_list("high_cost_spend", flat=True)
        .first()
    )
    return Decimal(str(total or 0)).quantize(CENTS)
