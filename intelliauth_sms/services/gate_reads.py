"""The send-policy gate's two reads, in plain SQL: the tenant's policy with its country rule
for the destination, and every rolling window's count in one statement.

They run on every send, and building them with the ORM (an annotated queryset with four
subqueries; an aggregate of five filtered counts) cost about a millisecond each, several
times what the database spends on them (issue 11's profile). The SQL is written once here,
from the models' own table and column names, with every value a parameter prepared by its
model field (so UUIDs, addresses and times are passed as the ORM would pass them). Plain
ANSI SQL (``LEFT JOIN``, ``CASE``, ``EXISTS``): no database-specific syntax.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q

from intelliauth_sms.models import CountryRule, SmsMessage, TenantPolicy


def _qn(name: str) -> str:
    return str(connection.ops.quote_name(name))


def _field(model: Any, name: str) -> Any:
    """A concrete field of ``model`` by name or attname (``user_id``)."""
    return model._meta.get_field(name)


def _column(model: Any, name: str) -> str:
    return _qn(_field(model, name).column)


@functools.cache
def _policy_sql(vendor: str) -> str:
    """The policy row, its rule for one country, and whether any rule allows (per vendor:
    quoting differs)."""
    p_tenant = _column(TenantPolicy, "tenant")
    r_tenant, r_country = _column(CountryRule, "tenant"), _column(CountryRule, "country")
    r_action = _column(CountryRule, "action")
    fields: Any = TenantPolicy._meta.concrete_fields
    columns = ", ".join(f"p.{_qn(field.column)}" for field in fields)
    rule_table = _qn(CountryRule._meta.db_table)
    # Only this app's quoted table and column names are in the text; values are parameters.
    return (
        f"SELECT {columns}, r.{r_action} AS rule_action, "  # noqa: S608
        f"r.{_column(CountryRule, 'unit_cost')} AS rule_unit_cost, "
        f"r.{_column(CountryRule, 'high_cost')} AS rule_high_cost, "
        f"CASE WHEN EXISTS (SELECT 1 FROM {rule_table} a "
        f"WHERE a.{r_tenant} = p.{p_tenant} AND a.{r_action} = %s) "
        f"THEN 1 ELSE 0 END AS allow_list_mode "
        f"FROM {_qn(TenantPolicy._meta.db_table)} p LEFT JOIN {rule_table} r "
        f"ON r.{r_tenant} = p.{p_tenant} AND r.{r_country} = %s "
        f"WHERE p.{p_tenant} = %s"
    )


def read_policy_for_send(tenant_id: int, country: str) -> TenantPolicy | None:
    """The tenant's policy with ``rule_action``, ``rule_unit_cost`` and ``rule_high_cost``
    (``None`` without a rule for ``country``) and ``allow_list_mode``; ``None`` if the
    tenant has no policy row."""
    params = [CountryRule.Action.ALLOW.value, country, tenant_id]
    rows = list(TenantPolicy.objects.raw(_policy_sql(connection.vendor), params))
    return rows[0] if rows else None


@dataclass(frozen=True)
class Window:
    """One rolling limit: the sends it counts, as field lookups of ``SmsMessage``
    (``name``, ``name__in``, ``name__isnull``, ``name__gt``), and how many it allows
    (``None``: only counted, for the pumping breaker)."""

    lookups: dict[str, Any]
    limit: int | None

    @property
    def sends(self) -> Q:
        """The same sends as a ``Q`` (the rare paths use the ORM)."""
        return Q(**self.lookups)


_OPERATORS = {"exact": "=", "gt": ">"}


def _condition(lookups: dict[str, Any]) -> tuple[str, list[Any]]:
    """``lookups`` as one SQL condition (``AND`` of each) and its parameters."""
    parts: list[str] = []
    params: list[Any] = []
    for key, value in lookups.items():
        name, _sep, lookup = key.partition("__")
        field = _field(SmsMessage, name)
        column, prepare = _qn(field.column), field.get_db_prep_value
        if lookup == "isnull":
            parts.append(f"{column} IS {'' if value else 'NOT '}NULL")
        elif lookup == "in":
            parts.append(f"{column} IN ({', '.join(['%s'] * len(value))})")
            params.extend(prepare(item, connection) for item in value)
        else:
            parts.append(f"{column} {_OPERATORS[lookup or 'exact']} %s")
            params.append(prepare(value, connection))
    return " AND ".join(parts), params


def count_windows(windows: dict[str, Window], since: datetime) -> dict[str, int]:
    """Every window's sends created after ``since``, in one query: each count is an indexed
    range scan of its own (PostgreSQL combines them with a bitmap OR), flat with the table."""
    conditions = {name: _condition(window.lookups) for name, window in windows.items()}
    counts = ", ".join(
        f"SUM(CASE WHEN {sql} THEN 1 ELSE 0 END) AS {_qn(name)}"
        for name, (sql, _params) in conditions.items()
    )
    created = _column(SmsMessage, "created_at")
    any_window = " OR ".join(f"({sql})" for sql, _params in conditions.values())
    params = [value for _sql, values in conditions.values() for value in values]
    params.append(_field(SmsMessage, "created_at").get_db_prep_value(since, connection))
    params.extend(value for _sql, values in conditions.values() for value in values)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {counts} FROM {_qn(SmsMessage._meta.db_table)} "  # noqa: S608
            f"WHERE {created} > %s AND ({any_window})",
            params,
        )
        row = cursor.fetchone()
    return {name: int(count or 0) for name, count in zip(windows, row, strict=True)}
