"""Where a phone number and the codes sent to it may end up (CONTRACT §5, SECURITY.md 4, 9, 18).

A whole enrolment life runs through the API (start, resend, a replaced code, wrong codes,
complete, list, reveal, remove) with every logger at DEBUG and SQL logging on. Then every
row of every table is read, through Django (``dumpdata``) and as raw SQL, with the logs,
the security emails, stdout/stderr and (on the services tier) the Redis cache.

Runs in both tiers: SQLite here, PostgreSQL and Redis under ``make test-services``.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command
from django.db import connection

from intelliauth_sms.conf import app_settings
from intelliauth_sms.models import AuditEvent, MessageStatus, SmsFactor, SmsMessage
from intelliauth_sms.services import enrolment
from tests.conftest import last_code

pytestmark = pytest.mark.django_db

PHONE = "+14155550100"
NATIONAL = "4155550100"
KEPT_PHONE = "+14155550123"
PENDING_PHONE = "+447400123456"
QUEUED_PHONE = "+12025550123"
API = "/api/mfa/sms"

# Random identifiers and ciphertext can hold any six digits by chance; a code that leaked
# would stand on its own, so these are blanked before looking for codes (and digit runs).
_RANDOM_TOKENS = [
    re.compile(r"gAAAAA[A-Za-z0-9_\-=]+"),  # Fernet tokens (encrypted numbers)
    re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"),
    re.compile(r"[0-9a-fA-F]{32,}"),  # keyed hashes, password hashes
    re.compile(r"(?<=:\d\d)\.\d{1,6}"),  # fractions of a second in timestamps
    re.compile(r"\d+\.\d{4,}"),  # timings and other floats ("succeeded in 0.0174415s")
]


def scrub(text: str) -> str:
    for pattern in _RANDOM_TOKENS:
        text = pattern.sub("<random>", text)
    return text


def more_than_last4(national: str) -> list[str]:
    """Every 5-digit run of a national number: holding any of them is more than the last 4."""
    return [national[i : i + 5] for i in range(len(national) - 4)]


def dumpdata() -> str:
    """Every row of every installed app, as Django serialises it."""
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def raw_tables() -> dict[str, str]:
    """Every row of every table, as the database stores it."""
    dumped = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dumped[table] = repr(cursor.fetchall())
    assert any(t.startswith("intelliauth_sms_") for t in dumped)
    return dumped


def redis_cache_contents() -> str:
    """Keys and values of the Redis cache on the services tier ("" elsewhere)."""
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return ""
    client = cache._cache.get_client()
    parts = []
    for key in client.scan_iter():
        parts.append(repr(key))
        if client.type(key) == b"string":
            parts.append(repr(client.get(key)))
    return "\n".join(parts)


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, and SQL statements logged with their parameters."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    forced = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        yield caplog
    finally:
        connection.force_debug_cursor = forced


# What every LogRecord has; anything else on a record came from ``extra=`` (SQL logging
# passes ``sql`` and ``params`` that way). Timings are noise that may hold any digits.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "duration",
}


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured line, with any ``extra`` values attached to the records."""
    lines = [caplog.text]
    for record in caplog.records:
        lines.append(record.getMessage())
        extra = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}
        lines.append(repr(extra))
    return "\n".join(lines)


def test_no_table_log_email_or_cache_keeps_the_number_or_a_code_after_an_enrolment_life(
    api: Any,
    user: Any,
    outbox: list[Any],
    everything_logged: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert app_settings.SMS_BACKEND == "intelliauth_sms.backends.locmem.SmsBackend"
    responses: list[Any] = []

    def post(path: str, body: dict[str, Any], status: int) -> Any:
        response = api.post(f"{API}/{path}", body, format="json")
        assert response.status_code == status, response.content
        responses.append(response)
        return response.json() if response.content else {}

    started = post("enrolments/", {"phone_number": PHONE}, 201)
    first_code = last_code(outbox)
    post(f"enrolments/{started['id']}/resend/", {}, 202)
    second_code = last_code(outbox)
    sent_codes = {first_code, second_code}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in sent_codes)
    if first_code != second_code:
        replaced = post(f"enrolments/{started['id']}/complete/", {"code": first_code}, 400)
        assert replaced["error"]["code"] == "code_expired"
    for _ in range(2):
        answer = post(f"enrolments/{started['id']}/complete/", {"code": wrong}, 400)
        assert answer["error"]["code"] == "invalid_code"
    factor = post(f"enrolments/{started['id']}/complete/", {"code": second_code}, 201)["factor"]
    listed = api.get(f"{API}/factors/")
    responses.append(listed)
    revealed = post(f"factors/{factor['id']}/reveal/", {}, 200)
    assert revealed == {"phone_number": PHONE}
    removed = api.delete(f"{API}/factors/{factor['id']}/")
    assert removed.status_code == 204
    assert [sms.to for sms in outbox] == [PHONE, PHONE]

    # Once the factor is gone, nothing anywhere holds the number, not even encrypted.
    django_rows = dumpdata()
    sql_rows = raw_tables()
    cache = redis_cache_contents()
    logs = logged_text(everything_logged)
    emails = "\n".join(f"{m.subject}\n{m.body}" for m in mail.outbox)
    assert len(mail.outbox) == 2  # factor added, factor removed
    printed = capsys.readouterr()
    places = {
        "dumpdata": django_rows,
        "logs": logs,
        "emails": emails,
        "stdout/stderr": printed.out + printed.err,
        "redis cache": cache,
        **{f"table {table}": rows for table, rows in sql_rows.items()},
    }
    assert "intelliauth_sms.auditevent" in django_rows
    assert "number_revealed" in django_rows and "factor_removed" in django_rows
    for where, text in places.items():
        assert PHONE not in text, f"{where} holds the number"
        assert NATIONAL not in text, f"{where} holds the number's digits"
        clean = scrub(text)
        for code in sent_codes:
            assert code not in clean, f"{where} holds the code {code}"
    for where in ("logs", "emails", "dumpdata"):
        clean = scrub(places[where])
        for run in more_than_last4(NATIONAL):
            at = clean.find(run)
            assert at < 0, f"{where} holds {run}: …{clean[max(0, at - 80) : at + 40]}…"
    # API answers show the number masked, except the audited reveal.
    for response in responses:
        if not response.wsgi_request.path.endswith("/reveal/"):
            assert NATIONAL not in response.content.decode(), response.wsgi_request.path
    # The logs were really captured: the audit trail's lines and the SQL statements.
    loggers = {record.name for record in everything_logged.records}
    assert {"intelliauth_sms.audit", "django.db.backends"} <= loggers

    events = list(AuditEvent.objects.order_by("id").values())
    types = {event["event_type"] for event in events}
    assert {"sms_sent", "code_checked", "factor_enrolled", "number_revealed"} <= types
    assert "factor_removed" in types
    for event in events:
        assert event["phone_last4"] in ("", "0100"), event
        rendered = scrub(json.dumps(event, default=str))
        for run in more_than_last4(NATIONAL):
            assert run not in rendered, f"audit event {event['event_type']} holds {run}"
        for code in sent_codes:
            assert code not in rendered, f"audit event {event['event_type']} holds a code"


def test_numbers_still_in_use_are_encrypted_in_every_column_that_holds_them(
    api: Any, user: Any, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    # An enrolled factor, a pending enrolment, and a message still queued for the worker.
    started = api.post(f"{API}/enrolments/", {"phone_number": KEPT_PHONE}, format="json")
    done = api.post(
        f"{API}/enrolments/{started.json()['id']}/complete/",
        {"code": last_code(outbox)},
        format="json",
    )
    assert done.status_code == 201, done.content
    pending = api.post(f"{API}/enrolments/", {"phone_number": PENDING_PHONE}, format="json")
    assert pending.status_code == 201, pending.content
    with django_capture_on_commit_callbacks(execute=False):
        enrolment.start_enrolment(user, QUEUED_PHONE)
    assert SmsMessage.objects.filter(status=MessageStatus.QUEUED).count() == 1
    assert str(SmsFactor.objects.get().phone_number) == KEPT_PHONE  # readable through the model

    numbers = {KEPT_PHONE: "4155550123", PENDING_PHONE: "7400123456", QUEUED_PHONE: "2025550123"}
    for table, rows in raw_tables().items():
        for e164, national in numbers.items():
            assert e164 not in rows and national not in rows, f"{table} holds {e164} in plaintext"

    # dumpdata writes each phone column as its ciphertext (CONTRACT §5), never the number.
    dumped = dumpdata()
    for e164, national in numbers.items():
        assert e164 not in dumped and national not in dumped, f"the dump holds {e164}"
    serialized = json.loads(dumped)
    tokens = [
        row["fields"]["phone_number"]
        for row in serialized
        if row["model"] in {"intelliauth_sms.smsfactor", "intelliauth_sms.pendingenrolment"}
        and row["fields"]["phone_number"]
    ]
    assert len(tokens) == 3 and all(token.startswith("gAAAA") for token in tokens)
