"""Plain SQL from the models' own metadata, for the statements of the send and check paths
that are written by hand (``gate_reads``, ``reads``, ``upsert``, the default tenant resolver,
the single-row updates of ``codes``, ``flows`` and ``enrolment``, and the rows a send or a
check inserts).

Only quoted table and column names of this app's models go into the text; every value is a
parameter, prepared by its model field as the ORM would prepare it (UUIDs, addresses, times
with their time zone, choices).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models import Model

#: The lookups ``condition`` understands, and their operators.
_OPERATORS = {"exact": "=", "gt": ">"}


def database() -> Any:
    """This thread's wrapper of the default database, where the hand-written statements run.

    ``django.db.connection`` is a proxy that looks the wrapper up again on every attribute
    it is asked for (a thread- and task-local lookup of about a microsecond, a few hundred
    times a request on these paths, and again inside every field that prepares a value for
    it); the functions here resolve it once and hand the wrapper itself on.
    """
    return connections[DEFAULT_DB_ALIAS]


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
    as one SQL condition, the ``AND`` of each, and its parameters.

    The text depends only on the lookups' shape (their names, how many values an ``IN``
    has, which way an ``isnull`` goes), so it is built once per shape; the parameters are
    prepared on every call.
    """
    db = database()
    shape: list[tuple[str, Any]] = []
    params: list[Any] = []
    for key, value in lookups.items():
        name, _sep, lookup = key.partition("__")
        prepare = field(model, name).get_db_prep_value
        if lookup == "isnull":
            shape.append((key, bool(value)))
        elif lookup == "in":
            shape.append((key, len(value)))
            params.extend(prepare(item, db) for item in value)
        elif value is None:
            raise ValueError(f"{key}=None matches nothing in SQL: use {name}__isnull.")
        else:
            shape.append((key, None))
            params.append(prepare(value, db))
    return _condition_text(db.vendor, model, tuple(shape), alias), params


@functools.cache
def _condition_text(vendor: str, model: Any, shape: tuple[tuple[str, Any], ...], alias: str) -> str:
    parts = []
    for key, detail in shape:
        name, _sep, lookup = key.partition("__")
        target = column(model, name, alias)
        if lookup == "isnull":
            parts.append(f"{target} IS {'' if detail else 'NOT '}NULL")
        elif lookup == "in":
            parts.append(f"{target} IN ({', '.join(['%s'] * detail)})")
        else:
            parts.append(f"{target} {_OPERATORS[lookup or 'exact']} %s")
    return " AND ".join(parts)


def update(model: Any, lookups: dict[str, Any], values: dict[str, Any]) -> int:
    """``UPDATE`` the ``model`` rows matching ``lookups`` (``condition``'s) with ``values``
    (field name or attname → value, prepared as ``save()`` prepares it); the number of
    rows changed. Like ``QuerySet.update()``, it sends no model signals."""
    db = database()
    where, where_params = condition(model, lookups)
    params = [field(model, name).get_db_prep_save(value, db) for name, value in values.items()]
    with transaction.mark_for_rollback_on_error(db.alias), db.cursor() as cursor:
        cursor.execute(
            _update_text(db.vendor, model, tuple(values), where),
            [*params, *where_params],
        )
        return int(cursor.rowcount)


@functools.cache
def _update_text(vendor: str, model: Any, names: tuple[str, ...], where: str) -> str:
    assignments = ", ".join(f"{column(model, name)} = %s" for name in names)
    return f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {where}"  # noqa: S608


def update_one(model: Any, lookups: dict[str, Any], values: dict[str, Any]) -> None:
    """``update`` for exactly one row; ``DatabaseError`` if none matched, as
    ``save(update_fields=...)`` raises."""
    if update(model, lookups, values) != 1:
        raise DatabaseError(f"No {model.__name__} row matched {sorted(lookups)}.")


def insert(instances: Sequence[Model]) -> None:
    """``INSERT`` new ``instances`` of one model, each value as ``save()`` writes it: the
    field's ``pre_save`` for an addition (``auto_now_add`` fills in), then
    ``get_db_prep_save``; related objects must be saved first, as ``save()`` requires. One
    statement, or one per batch where the database limits a statement's parameters
    (SQLite). An auto-incremented key left empty is filled from the database: returned by
    the statement (PostgreSQL, MariaDB 10.5+, SQLite 3.35+), or for a single row the
    connection's last insert id (MySQL); several rows there keep ``None``, as with
    ``bulk_create``. The instances are then saved ones (``_state.adding`` is false). An
    error marks the enclosing ``atomic()`` block for rollback, as ``save()`` does.

    Like ``bulk_create`` it sends no model signals and runs no model ``save()`` method:
    for the rows a send or a check writes, where compiling ``save()``'s ``INSERT`` cost as
    much as running it. It writes one table: not for proxy or multi-table-inheritance
    models, nor for values that are expressions (``F()``, a field's ``db_default``).
    """
    if not instances:
        return
    model = type(instances[0])
    meta: Any = model._meta
    if any(type(instance) is not model for instance in instances):
        raise TypeError("insert() takes instances of one model.")
    if meta.proxy or meta.parents:
        raise TypeError("insert() writes one table: not a proxy or an inheriting model.")
    auto = meta.auto_field
    keyed = [auto is None or getattr(i, auto.attname) is not None for i in instances]
    if any(keyed) and not all(keyed):
        raise ValueError("insert() takes instances that all have a key or all leave it empty.")
    for instance in instances:
        typed: Any = instance
        typed._prepare_related_fields_for_save(operation_name="insert")
    with_key = all(keyed)
    fields = [
        f
        for f in meta.local_concrete_fields
        if not getattr(f, "generated", False) and (with_key or f is not auto)
    ]
    db = database()
    values = [f.pre_save(instance, True) for instance in instances for f in fields]
    if any(hasattr(value, "resolve_expression") for value in values):
        raise TypeError("insert() writes values, not expressions (F(), db_default).")
    params = [
        f.get_db_prep_save(value, db)
        for value, f in zip(values, fields * len(instances), strict=True)
    ]
    returning = not with_key and db.features.can_return_rows_from_bulk_insert
    rows = max(1, db.ops.bulk_batch_size(fields, instances))
    with transaction.mark_for_rollback_on_error(db.alias):
        for start in range(0, len(instances), rows):
            batch = instances[start : start + rows]
            batch_params = params[start * len(fields) : (start + len(batch)) * len(fields)]
            _insert_batch(db, fields, batch, batch_params, returning, with_key)
    for instance in instances:
        instance._state.adding = False
        instance._state.db = db.alias


def _insert_batch(
    db: Any,
    fields: list[Any],
    instances: Sequence[Model],
    params: list[Any],
    returning: bool,
    with_key: bool,
) -> None:
    model: Any = type(instances[0])
    text = _insert_text(
        db.vendor, model, tuple(f.attname for f in fields), len(instances), returning
    )
    with db.cursor() as cursor:
        cursor.execute(text, params)
        if returning:
            keys = [row[0] for row in cursor.fetchall()]
        elif not with_key and len(instances) == 1:
            keys = [db.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)]
        else:
            keys = []
    auto = model._meta.auto_field
    for instance, key in zip(instances, keys, strict=False):
        setattr(instance, auto.attname, auto.to_python(key))


def insert_into(model: Any, names: Sequence[str], rows: int) -> str:
    """``INSERT INTO`` ``model``'s table, the columns of fields ``names``, and a ``VALUES``
    list of ``rows`` rows of parameters (for ``insert`` and the upserts to build on)."""
    columns = ", ".join(column(model, name) for name in names)
    values = ", ".join([f"({', '.join(['%s'] * len(names))})"] * rows)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {values}"  # noqa: S608


@functools.cache
def _insert_text(
    vendor: str, model: Any, names: tuple[str, ...], rows: int, returning: bool
) -> str:
    text = insert_into(model, names, rows)
    if returning:
        text = f"{text} RETURNING {column(model, model._meta.auto_field.name)}"
    return text
