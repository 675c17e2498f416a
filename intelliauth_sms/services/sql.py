"""Plain SQL from the models' own metadata, for the statements of the send and check paths
that are written by hand (``gate_reads``, ``reads``, the default tenant resolver, and the
single-row updates of ``codes``, ``flows`` and ``enrolment``).

Only quoted table and column names of this app's models go into the text; every value is a
parameter, prepared by its model field as the ORM would prepare it (UUIDs, addresses, times
with their time zone, choices).
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, connection

#: The lookups ``condition`` understands, and their operators.
_OPERATORS = {"exact": "=", "gt": ">"}


def quote(name: str) -> str:
    """A table or column name, quoted for the current database."""
    return str(connection.ops.quote_name(name))


def field(model: Any, name: str) -> Any:
    """A concrete field of ``model`` by name or attname (``user_id``)."""
    return model._meta.get_field(name)


def column(model: Any, name: str, alias: str = "") -> str:
    """The quoted column of field ``name``, prefixed with a table ``alias`` if given."""
    quoted = quote(field(model, name).column)
    return f"{alias}.{quoted}" if alias else quoted


def condition(model: Any, lookups: dict[str, Any], alias: str = "") -> tuple[str, list[Any]]:
    """Field lookups of ``model`` (``name``, ``name__in``, ``name__isnull``, ``name__gt``)
    as one SQL condition, the ``AND`` of each, and its parameters."""
    parts: list[str] = []
    params: list[Any] = []
    for key, value in lookups.items():
        name, _sep, lookup = key.partition("__")
        target = column(model, name, alias)
        prepare = field(model, name).get_db_prep_value
        if lookup == "isnull":
            parts.append(f"{target} IS {'' if value else 'NOT '}NULL")
        elif lookup == "in":
            parts.append(f"{target} IN ({', '.join(['%s'] * len(value))})")
            params.extend(prepare(item, connection) for item in value)
        elif value is None:
            raise ValueError(f"{key}=None matches nothing in SQL: use {name}__isnull.")
        else:
            parts.append(f"{target} {_OPERATORS[lookup or 'exact']} %s")
            params.append(prepare(value, connection))
    return " AND ".join(parts), params


def update(model: Any, lookups: dict[str, Any], values: dict[str, Any]) -> int:
    """``UPDATE`` the ``model`` rows matching ``lookups`` (``condition``'s) with ``values``
    (field name or attname → value, prepared as ``save()`` prepares it); the number of
    rows changed. Like ``QuerySet.update()``, it sends no model signals."""
    where, where_params = condition(model, lookups)
    assignments = ", ".join(f"{column(model, name)} = %s" for name in values)
    params = [
        field(model, name).get_db_prep_save(value, connection) for name, value in values.items()
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {where}",  # noqa: S608
            [*params, *where_params],
        )
        return int(cursor.rowcount)


def update_one(model: Any, lookups: dict[str, Any], values: dict[str, Any]) -> None:
    """``update`` for exactly one row; ``DatabaseError`` if none matched, as
    ``save(update_fields=...)`` raises."""
    if update(model, lookups, values) != 1:
        raise DatabaseError(f"No {model.__name__} row matched {sorted(lookups)}.")
