"""The send-policy gate's two reads, in plain SQL: the tenant's policy with its country rule
for the destination, and every rolling window's count in one statement.

They run on every send, and building them with the ORM (an annotated queryset with four
subqueries; an aggregate of five filtered counts) cost about a millisecond each, several
times what the database spends on them (issue 11's profile). The SQL is written here from
the models' own table and column names (``services.sql``), every value a parameter
prepared by its model field. Plain ANSI SQL (``LEFT JOIN``, ``CASE``, ``EXISTS``): no
database-specific syntax.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from intelliauth_sms.models import CountryRule, SmsMessage, TenantPolicy
from intelliauth_sms.services import reads, sql


@functools.cache
def _policy_sql(vendor: str) -> str:
    """The policy row, its rule for one country, and whether any rule allows (per vendor:
    quoting differs)."""
    columns = reads.columns(TenantPolicy, "p")
    rule_table = sql.quote(CountryRule._meta.db_table)
    p_tenant = sql.column(TenantPolicy, "tenant", "p")
    return (
        f"SELECT {columns}, {sql.column(CountryRule, 'action', 'r')} AS rule_action, "  # noqa: S608
        f"{sql.column(CountryRule, 'unit_cost', 'r')} AS rule_unit_cost, "
        f"{sql.column(CountryRule, 'high_cost', 'r')} AS rule_high_cost, "
        f"CASE WHEN EXISTS (SELECT 1 FROM {rule_table} a "
        f"WHERE {sql.column(CountryRule, 'tenant', 'a')} = {p_tenant} "
        f"AND {sql.column(CountryRule, 'action', 'a')} = %s) "
        f"THEN 1 ELSE 0 END AS allow_list_mode "
        f"FROM {sql.quote(TenantPolicy._meta.db_table)} p LEFT JOIN {rule_table} r "
        f"ON {sql.column(CountryRule, 'tenant', 'r')} = {p_tenant} "
        f"AND {sql.column(CountryRule, 'country', 'r')} = %s "
        f"WHERE {p_tenant} = %s"
    )


def read_policy_for_send(tenant_id: int, country: str) -> TenantPolicy | None:
    """The tenant's policy with ``rule_action``, ``rule_unit_cost`` and ``rule_high_cost``
    (``None`` without a rule for ``country``) and ``allow_list_mode``; ``None`` if the
    tenant has no policy row."""
    params: list[Any] = [CountryRule.Action.ALLOW.value, country, tenant_id]
    db = sql.database()
    with db.cursor() as cursor:
        cursor.execute(_policy_sql(db.vendor), params)
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(TenantPolicy._meta.concrete_fields)
    policy: Any = reads.instance(TenantPolicy, row[:width])
    # As the database returns them, as ``QuerySet.raw()`` leaves extra columns.
    policy.rule_action, policy.rule_unit_cost, policy.rule_high_cost = row[width : width + 3]
    policy.allow_list_mode = row[width + 3]
    return policy


@dataclass(frozen=True)
class Window:
    """One rolling limit: the sends it counts, as field lookups of ``SmsMessage``
    (``sql.condition``'s: ``name``, ``name__in``, ``name__isnull``, ``name__gt``), and how
    many it allows (``None``: only counted, for the pumping breaker)."""

    lookups: dict[str, Any]
    limit: int | None

    @property
    def sends(self) -> Q:
        """The same sends as a ``Q`` (the rare paths use the ORM)."""
        return Q(**self.lookups)


def count_windows(windows: dict[str, Window], since: datetime) -> dict[str, int]:
    """Every window's sends created after ``since``, in one query: each count is an indexed
    range scan of its own (PostgreSQL combines them with a bitmap OR), flat with the table."""
    conditions = {name: sql.condition(SmsMessage, w.lookups) for name, w in windows.items()}
    shape = tuple((name, text) for name, (text, _params) in conditions.items())
    params = [value for _text, values in conditions.values() for value in values]
    db = sql.database()
    params.append(sql.field(SmsMessage, "created_at").get_db_prep_value(since, db))
    params.extend(value for _text, values in conditions.values() for value in values)
    with db.cursor() as cursor:
        cursor.execute(_windows_sql(db.vendor, shape), params)
        row = cursor.fetchone()
    return {name: int(count or 0) for name, count in zip(windows, row, strict=True)}


@functools.cache
def _windows_sql(vendor: str, shape: tuple[tuple[str, str], ...]) -> str:
    """``count_windows``'s statement for windows of these names and conditions."""
    counts = ", ".join(
        f"SUM(CASE WHEN {text} THEN 1 ELSE 0 END) AS {sql.quote(name)}" for name, text in shape
    )
    any_window = " OR ".join(f"({text})" for _name, text in shape)
    return (
        f"SELECT {counts} FROM {sql.quote(SmsMessage._meta.db_table)} "  # noqa: S608
        f"WHERE {sql.column(SmsMessage, 'created_at')} > %s AND ({any_window})"
    )
