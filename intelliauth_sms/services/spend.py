"""The daily high-cost spend: one row per tenant and UTC day, raised by each high-cost send.

``add_high_cost_spend`` adds a send's price and returns the day's new total in one
statement (``INSERT … ON CONFLICT DO UPDATE … RETURNING``), which also locks the row until
the send's transaction ends: concurrent sends are added one after the other, and a send
refused for the cap rolls its addition back with it. The cap check is therefore one row,
however many messages the day has seen.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F

from intelliauth_sms.models import DailySpend, Tenant
from intelliauth_sms.services.upsert import returning_supported

#: Prices have 4 decimal places (``CountryRule.unit_cost``); so has the running total.
CENTS = Decimal("0.0001")


def utc_day(now: datetime) -> date:
    """The UTC day of ``now``: the day of the high-cost cap."""
    return now.astimezone(UTC).date()


def _sql() -> str:
    qn = connection.ops.quote_name
    meta = DailySpend._meta
    table = qn(meta.db_table)
    fields: list[Any] = [meta.get_field(name) for name in ("tenant", "day", "high_cost_spend")]
    tenant, day, spend = (qn(field.column) for field in fields)
    # Only this app's quoted names are in the text; values are parameters. ROUND keeps the
    # total exact to 4 places on SQLite, whose decimals are floating point.
    return (
        f"INSERT INTO {table} ({tenant}, {day}, {spend}) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT ({tenant}, {day}) DO UPDATE SET "
        f"{spend} = ROUND({table}.{spend} + EXCLUDED.{spend}, 4) RETURNING {spend}"
    )


def add_high_cost_spend(tenant: Tenant, now: datetime, amount: Decimal) -> Decimal:
    """Add ``amount`` to the tenant's spend of ``now``'s UTC day; the new total.

    Call inside the send's transaction: the row stays locked until it ends.
    """
    day = utc_day(now)
    if returning_supported():
        params = [
            tenant.pk,
            connection.ops.adapt_datefield_value(day),
            connection.ops.adapt_decimalfield_value(amount, 14, 4),
        ]
        with connection.cursor() as cursor:
            cursor.execute(_sql(), params)
            (total,) = cursor.fetchone()
        return Decimal(str(total)).quantize(CENTS)
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
