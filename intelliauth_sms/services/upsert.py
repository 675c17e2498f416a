"""Creating a row if it is missing and locking it, in one statement.

``INSERT … ON CONFLICT (…) DO UPDATE SET … RETURNING`` every column: the row comes back
whether it was just created or already there, and on PostgreSQL the ``DO UPDATE`` holds its
row lock until the transaction ends, like ``SELECT … FOR UPDATE``. The send path locks up to
four such rows (the user's state, the address's and the number's lock rows, the prefix's
breaker), so this saves a statement each, and two on a row's first use; the two lock rows
share one statement (``upsert_many_locked``).

PostgreSQL and SQLite 3.35+ run it; elsewhere the callers create the row and lock it in two
steps (``returning_supported``).
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from django.db import models

from intelliauth_sms.services import reads, sql

M = TypeVar("M", bound=models.Model)


def returning_supported() -> bool:
    """Whether this database runs ``… RETURNING`` (and ``ON CONFLICT DO UPDATE``)."""
    vendor = sql.database().vendor
    if vendor == "postgresql":
        return True
    if vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version_info >= (3, 35)
    return False


@functools.cache
def _sql(
    vendor: str,
    model: type[models.Model],
    names: tuple[str, ...],
    conflict: tuple[str, ...],
    add: str | None,
    rows: int = 1,
) -> str:
    """The statement's text, built once per shape (and database vendor: quoting differs)."""
    table = sql.quote(model._meta.db_table)
    targets = ", ".join(sql.column(model, name) for name in conflict)
    if add is None:
        touched = sql.column(model, conflict[-1])
        update = f"{touched} = EXCLUDED.{touched}"
    else:
        # ROUND to the field's places keeps a decimal total exact on SQLite, whose
        # decimals are floating point.
        column = sql.column(model, add)
        places = sql.field(model, add).decimal_places
        update = f"{column} = ROUND({table}.{column} + EXCLUDED.{column}, {places})"
    # Only this app's quoted table and column names are in the text; values are parameters.
    return (
        f"{sql.insert_into(model, names, rows)} "
        f"ON CONFLICT ({targets}) DO UPDATE SET {update} RETURNING {reads.columns(model)}"
    )


def upsert_locked(
    model: type[M], values: dict[str, Any], conflict: list[str], *, add: str | None = None
) -> M:
    """The row of ``model`` whose ``conflict`` fields have ``values``: created with
    ``values`` if missing, and locked until the transaction ends. Field names as the model
    spells them; a foreign key's value is the related row's primary key.

    ``add`` names a decimal field whose value in ``values`` is added to an existing row's
    (a running total), rather than the row being returned as it was."""
    db = sql.database()
    names = tuple(values)
    params = [sql.field(model, name).get_db_prep_save(values[name], db) for name in names]
    text = _sql(db.vendor, model, names, tuple(conflict), add)
    with db.cursor() as cursor:
        cursor.execute(text, params)
        row = cursor.fetchone()
    return reads.instance(model, row)


def upsert_many_locked(model: type[M], rows: list[dict[str, Any]], conflict: list[str]) -> None:
    """``upsert_locked`` for several rows of ``model`` in one statement, locked in the order
    given (PostgreSQL inserts and locks a ``VALUES`` list row by row), so callers that lock
    in a fixed order keep it. The rows must differ in their ``conflict`` fields and name the
    same fields."""
    if not rows:
        return
    db = sql.database()
    names = tuple(rows[0])
    params = [
        sql.field(model, name).get_db_prep_save(row[name], db) for row in rows for name in names
    ]
    with db.cursor() as cursor:
        cursor.execute(_sql(db.vendor, model, names, tuple(conflict), None, rows=len(rows)), params)
