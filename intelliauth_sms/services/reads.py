"""The hot paths' reads in plain SQL: one row (with the rows its foreign keys point to)
as model instances, as ``select_related`` returns them (``read_one``), and whether a row
exists (``exists``).

Building these querysets cost several times running them: the flow every sign-in step
starts with (with its user, tenant and factor) took about 0.45 ms a request to compile. The
statements are built from the models' metadata (``services.sql``); each column goes through
the converters Django's own compiler would apply (the backend's, then the field's), and
instances are made with ``Model.from_db``, as a queryset makes them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model
from django.db.transaction import TransactionManagementError

from intelliauth_sms.services import sql

M = TypeVar("M", bound=Model)

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Part:
    """The columns one model contributes to the row."""

    model: type[Model]
    alias: str
    attnames: tuple[str, ...]
    converters: tuple[tuple[Any, tuple[Converter, ...]], ...]  # (column expression, converters)


#: Where each database connection wrapper (thread-local in Django) keeps its parts. On the
#: wrapper itself: the converters refer back to it, so a cache outside it (even a weak one)
#: would keep every thread's wrapper, and its connection, alive.
_CACHE_ATTRIBUTE = "_intelliauth_sms_read_parts"


def _part(model: type[Model], alias: str, wrapper: Any) -> _Part:
    cache: dict[tuple[type[Model], str], _Part] = wrapper.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
    key = (model, alias)
    if key not in cache:
        fields: Any = model._meta.concrete_fields
        converters = []
        for field in fields:
            expression = field.get_col(alias)
            found = wrapper.ops.get_db_converters(expression) + expression.get_db_converters(
                wrapper
            )
            converters.append((expression, tuple(found)))
        cache[key] = _Part(
            model,
            alias,
            tuple(f.attname for f in fields),
            tuple(converters),
        )
    return cache[key]


def columns(model: type[Model], alias: str = "") -> str:
    """Every concrete column of ``model``, quoted, in the order ``instance`` takes them
    (a ``RETURNING`` list, a ``SELECT``'s), prefixed with a table ``alias`` if given."""
    fields: Any = model._meta.concrete_fields
    return ", ".join(sql.column(model, f.name, alias) for f in fields)


def instance(model: type[M], values: Sequence[Any]) -> M:
    """A ``model`` instance from the values of its concrete columns, in ``columns``'s order,
    as read from the database: each goes through the converters a queryset applies."""
    db = sql.database()
    found: Any = _instance(_part(model, "m", db), values, db)
    return found


def _spans_tables(model: type[Model]) -> bool:
    """Whether ``model``'s fields live in more than one table (multi-table inheritance,
    e.g. a custom user model that extends another model): such a row is not joined here."""
    return len(model._meta.concrete_fields) != len(model._meta.local_concrete_fields)


def _instance(part: _Part, values: Sequence[Any], db: Any) -> Model:
    converted = []
    for value, (expression, converters) in zip(values, part.converters, strict=True):
        for convert in converters:
            value = convert(value, expression, db)
        converted.append(value)
    return part.model.from_db(db.alias, part.attnames, converted)


def read_one(
    model: type[M],
    lookups: dict[str, Any],
    *,
    related: Sequence[str] = (),
    lock: bool = False,
    first_by: str | None = None,
) -> M | None:
    """The one ``model`` row matching ``lookups`` (``sql.condition``'s lookups), with the
    rows its foreign keys ``related`` point to cached on it as ``select_related`` caches
    them; ``None`` if no row matches. ``lock`` locks that row only, as
    ``select_for_update(of=("self",))`` does (on a database without ``FOR UPDATE OF``, by a
    statement of its own before the read), and must run inside ``transaction.atomic()``.
    ``first_by`` orders several matching rows and takes the first, as
    ``order_by(first_by).first()`` does (``"-created_at"``: the newest)."""
    db = sql.database()
    main = _part(model, "m", db)
    joined = _joined(model, tuple(related))
    parts = [(name, _part(target, alias, db)) for name, target, alias in joined]
    where, params = sql.condition(model, lookups, "m")
    features = db.features
    lock_main_first = (
        lock and not features.has_select_for_update_of and features.has_select_for_update
    ) and bool(joined)
    if lock:
        if db.get_autocommit():
            raise TransactionManagementError("A locking read must run inside transaction.atomic().")
        if lock_main_first:
            _lock_main_row(model, where, params)  # FOR UPDATE would lock the joined rows too
    # The locking clause depends on the database's features, not only on its vendor
    # (MySQL and MariaDB share one): they are part of the cache key.
    lock_clause = ""
    if lock and features.has_select_for_update_of:
        lock_clause = db.ops.for_update_sql(of=("m",))
    elif lock and features.has_select_for_update and not lock_main_first:
        lock_clause = db.ops.for_update_sql()
    text = _read_text(db.vendor, model, joined, where, first_by, lock_clause)
    with db.cursor() as cursor:
        cursor.execute(text, params)
        rows = cursor.fetchmany(2)
    if not rows:
        return None
    if len(rows) > 1:
        typed: Any = model
        raise typed.MultipleObjectsReturned(f"More than one {model.__name__} matched.")
    row, start = rows[0], len(main.attnames)
    found: Any = _instance(main, row[:start], db)
    for name, part in parts:
        values = row[start : start + len(part.attnames)]
        start += len(part.attnames)
        pk_index = part.attnames.index(part.model._meta.pk.attname)
        related_row = None if values[pk_index] is None else _instance(part, values, db)
        # Cached as select_related caches it: the row's own key stays as read (a row that
        # changed while this read waited for its lock can come back with a new key and the
        # joined columns empty; the key is then loaded on first use).
        link: Any = model._meta.get_field(name)
        if related_row is not None or getattr(found, link.attname) is None:
            link.set_cached_value(found, related_row)
    return found


@functools.cache
def _joined(model: type[Model], related: tuple[str, ...]) -> tuple[tuple[str, Any, str], ...]:
    """The foreign keys of ``related`` that ``read_one`` joins: (name, model, alias)."""
    joined = []
    for index, name in enumerate(related):
        target: Any = model._meta.get_field(name).related_model
        if not _spans_tables(target):  # else loaded on first use, as without select_related
            joined.append((name, target, f"r{index}"))
    return tuple(joined)


@functools.cache
def _read_text(
    vendor: str,
    model: type[Model],
    joined: tuple[tuple[str, Any, str], ...],
    where: str,
    first_by: str | None,
    lock_clause: str,
) -> str:
    """``read_one``'s statement, built once per shape (and database vendor)."""
    joins = []
    for name, target, alias in joined:
        key: Any = model._meta.get_field(name)
        on = f"{sql.column(target, key.target_field.name, alias)} = {sql.column(model, name, 'm')}"
        joins.append(f"LEFT JOIN {sql.quote(target._meta.db_table)} {alias} ON {on}")
    selected = ", ".join([columns(model, "m"), *(columns(t, alias) for _n, t, alias in joined)])
    text = (
        f"SELECT {selected} FROM {sql.quote(model._meta.db_table)} m "  # noqa: S608
        f"{' '.join(joins)} WHERE {where}"
    )
    if first_by is not None:
        direction = "DESC" if first_by.startswith("-") else "ASC"
        ordering = sql.column(model, first_by.lstrip("-"), "m")
        text = f"{text} ORDER BY {ordering} {direction} {connection.ops.limit_offset_sql(0, 1)}"
    return f"{text} {lock_clause}" if lock_clause else text


def _lock_main_row(model: type[Model], where: str, params: list[Any]) -> None:
    """Lock the main row on its own, for a database whose ``FOR UPDATE`` cannot name one
    table of a join (MariaDB): the joined read that follows then takes no lock."""
    text = (
        f"SELECT {sql.column(model, model._meta.pk.attname, 'm')} "  # noqa: S608
        f"FROM {sql.quote(model._meta.db_table)} m WHERE {where} {connection.ops.for_update_sql()}"
    )
    with connection.cursor() as cursor:
        cursor.execute(text, params)


def exists(model: type[Model], lookups: dict[str, Any]) -> bool:
    """Whether a ``model`` row matches ``lookups`` (``sql.condition``'s), like
    ``filter(...).exists()``."""
    db = sql.database()
    where, params = sql.condition(model, lookups)
    with db.cursor() as cursor:
        cursor.execute(_exists_text(db.vendor, model, where), params)
        return cursor.fetchone() is not None


@functools.cache
def _exists_text(vendor: str, model: type[Model], where: str) -> str:
    return (
        f"SELECT 1 FROM {sql.quote(model._meta.db_table)} WHERE {where} "  # noqa: S608
        f"{connection.ops.limit_offset_sql(0, 1)}"
    )
