"""Claiming a queued message for sending in one SQL statement (the worker's hot path;
plain SQL, its text built once per database vendor, because compiling an ORM query cost as
much as running it).

``UPDATE … RETURNING``: the message moves ``queued`` → ``sending`` only if this
task's sealed code is its current one (``SmsMessage.payload_check``, a keyed hash of the
message id and the code) and its code is still active and unexpired, and the statement
returns what sending needs. Of two runs racing for one message exactly one changes the row:
PostgreSQL re-checks the message's columns on the row the first run committed, and the
sweep, when it re-issues a code, changes ``payload_check`` too.

PostgreSQL and SQLite 3.35+ run the claim (``upsert.returning_supported``); elsewhere (and
for anything it does not claim) ``services.delivery`` reads the message and decides.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from intelliauth_sms.crypto import keyed_hash
from intelliauth_sms.models import CodeState, MessageStatus, SmsCode, SmsMessage
from intelliauth_sms.services import sql


def payload_check(message_id: uuid.UUID | str, code: str) -> str:
    """What ``SmsMessage.payload_check`` holds for a message whose current code is ``code``."""
    return keyed_hash("sms-payload", f"{message_id}:{code}")


@dataclass(frozen=True)
class ClaimedRow:
    """What the claim returns: the encrypted destination and the code's life."""

    phone_ciphertext: str
    code_created_at: datetime
    code_expires_at: datetime


@functools.cache
def _claim_sql(vendor: str) -> str:
    message, code = sql.quote(SmsMessage._meta.db_table), sql.quote(SmsCode._meta.db_table)
    m = {name: sql.column(SmsMessage, name) for name in (
        "id", "status", "attempts", "payload_check", "code", "phone_number",
    )}  # fmt: skip
    c = {name: sql.column(SmsCode, name) for name in ("id", "state", "expires_at", "created_at")}
    # Only quoted table and column names of this app's models go into the text; every value
    # is a parameter, in the same order in both forms.
    claim = (
        f"UPDATE {message} SET {m['status']} = %s, {m['attempts']} = {message}.{m['attempts']} + 1 "  # noqa: S608
    )
    message_is = (
        f"{message}.{m['id']} = %s AND {message}.{m['status']} = %s "
        f"AND {message}.{m['payload_check']} = %s"
    )
    code_is = f"{code}.{c['state']} = %s AND {code}.{c['expires_at']} > %s"
    if vendor == "postgresql":
        # A join: PostgreSQL plans it in about two thirds of the time the subqueries take
        # (the plan costs the server more than running it does).
        return (
            f"{claim}FROM {code} WHERE {message_is} "
            f"AND {code}.{c['id']} = {message}.{m['code']} AND {code_is} "
            f"RETURNING {message}.{m['phone_number']}, {code}.{c['created_at']}, "
            f"{code}.{c['expires_at']}"
        )
    # Subqueries elsewhere: SQLite's RETURNING sees the target table only.
    own_code = f"FROM {code} WHERE {code}.{c['id']} = {message}.{m['code']}"
    return (
        f"{claim}WHERE {message_is} AND EXISTS (SELECT 1 {own_code} AND {code_is}) "
        f"RETURNING {m['phone_number']}, (SELECT {code}.{c['created_at']} {own_code}), "
        f"(SELECT {code}.{c['expires_at']} {own_code})"
    )


def _as_datetime(value: object) -> datetime:
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a datetime: {value!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def claim_in_one_statement(message_id: uuid.UUID, code: str) -> ClaimedRow | None:
    """Claim the message if ``code`` is its current, valid code; ``None`` otherwise."""
    now = timezone.now()
    db = sql.database()
    params = [
        MessageStatus.SENDING.value,
        SmsMessage._meta.pk.get_db_prep_value(message_id, db),
        MessageStatus.QUEUED.value,
        payload_check(message_id, code),
        CodeState.ACTIVE.value,
        db.ops.adapt_datetimefield_value(now),
    ]
    with db.cursor() as cursor:
        cursor.execute(_claim_sql(db.vendor), params)
        row = cursor.fetchone()
    if row is None:
        return None
    return ClaimedRow(str(row[0]), _as_datetime(row[1]), _as_datetime(row[2]))
