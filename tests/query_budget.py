"""Counting a request's statements the way the query budgets are stated (issue 11): the
statements that do work, and separately the transaction statements around them.

``BEGIN``/``COMMIT`` in production are ``SAVEPOINT``/``RELEASE SAVEPOINT`` in tests (each
test runs inside a transaction), and PostgreSQL's ``BEGIN`` is not even captured, so a
budget that counted them would differ between databases and between tests and production.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext

TRANSACTION_STATEMENTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT")


@dataclass
class Statements:
    """What one block ran: the work, and the transaction statements."""

    work: list[str] = field(default_factory=list)
    transaction: list[str] = field(default_factory=list)


def split(sql: list[str]) -> Statements:
    """Sort captured SQL into work and transaction statements."""
    statements = Statements()
    for text in sql:
        kind = (
            statements.transaction if text.startswith(TRANSACTION_STATEMENTS) else statements.work
        )
        kind.append(text)
    return statements


@contextmanager
def query_budget(queries: int, transaction: int = 4) -> Iterator[Statements]:
    """Fail if the block runs more than ``queries`` statements of work, or more than
    ``transaction`` transaction statements (``SAVEPOINT`` and its ``RELEASE`` are two)."""
    statements = Statements()
    with CaptureQueriesContext(connection) as captured:
        yield statements
    ran = split([query["sql"] for query in captured.captured_queries])
    statements.work, statements.transaction = ran.work, ran.transaction
    listing = "\n".join(f"  {sql[:160]}" for sql in ran.work)
    assert len(ran.work) <= queries, f"{len(ran.work)} queries, budget {queries}:\n{listing}"
    assert len(ran.transaction) <= transaction, ran.transaction
