"""Is the send-policy gate flat with size? One send on empty tables, then with 10^6 messages.

    .venv/bin/python benchmarks/gate_flat.py                # seeds once, then measures
    .venv/bin/python benchmarks/gate_flat.py --messages 200000 --runs 100

Issue 10 asks the pumping breaker's conversion to stay cheap at 10^6 messages ("no full
scan per send"). This times one whole send through the code core (``issue_code``: the
gate with every check — per-user, per-IP, per-number caps, country rules, the breaker's
counts — and the rows a send writes), rolled back after each run so the tables do not
grow, first on empty tables and then with ``--messages`` messages and codes spread over
the last 7 days across 1 000 prefixes of the same tenant, the measured prefix included.
PostgreSQL, in a database of its own (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/intelliauth_sms_gate_bench``), created when missing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/intelliauth_sms_gate_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

import dj_database_url  # noqa: E402
import psycopg  # noqa: E402

url = dj_database_url.parse(os.environ["BENCH_DATABASE_URL"])
with psycopg.connect(
    host=url["HOST"],
    port=url["PORT"] or 5432,
    user=url["USER"],
    dbname="postgres",
    autocommit=True,
) as admin:
    if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [url["NAME"]]).fetchone():
        admin.execute(f'CREATE DATABASE "{url["NAME"]}"')

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from intelliauth_sms.models import SmsMessage, Tenant  # noqa: E402
from intelliauth_sms.phone import parse_e164  # noqa: E402
from intelliauth_sms.services import codes  # noqa: E402
from intelliauth_sms.services.context import Caller  # noqa: E402
from intelliauth_sms.services.pumping import prefix_hash  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

MEASURED = "+447400100123"


class Rollback(Exception):
    """Undo a measured send, so every run sees the same tables."""


def one_send(caller: Caller, n: int) -> float:
    destination = parse_e164(MEASURED)
    began = time.perf_counter()
    try:
        with transaction.atomic():
            codes.issue_code(
                caller, purpose="enrolment", subject_id=uuid.uuid4(), destination=destination
            )
            elapsed = time.perf_counter() - began
            raise Rollback
    except Rollback:
        return elapsed


def measure(caller: Caller, runs: int) -> float:
    for n in range(5):
        one_send(caller, n)  # warm up
    return statistics.median(one_send(caller, n) for n in range(runs))


def seed(count: int, tenant: Tenant, user: Any) -> None:
    """``count`` codes and messages over the last 7 days, in one INSERT … SELECT each."""
    measured = prefix_hash(MEASURED)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE intelliauth_sms_smsmessage, intelliauth_sms_smscode CASCADE")
        cursor.execute(
            """
            INSERT INTO intelliauth_sms_smscode
                (id, user_id, tenant_id, purpose, subject_id, code_hash, state,
                 created_at, expires_at, used_at)
            SELECT md5('c' || g)::uuid, %s, %s, 'enrolment', md5('s' || g)::uuid, 'x',
                   CASE WHEN g %% 3 = 0 THEN 'used' ELSE 'replaced' END,
                   now() - (g %% 604800) * interval '1 second', now(), NULL
            FROM generate_series(1, %s) AS g
            """,
            [user.pk, tenant.pk, count],
        )
        cursor.execute(
            """
            INSERT INTO intelliauth_sms_smsmessage
                (id, code_id, user_id, tenant_id, purpose, subject_id, client_ip, unit_cost,
                 high_cost, prefix_hash, status, provider_message_id, error, created_at,
                 sent_at, phone_number, phone_hash, phone_last4, country)
            SELECT md5('m' || g)::uuid, md5('c' || g)::uuid, %s, %s, 'enrolment',
                   md5('s' || g)::uuid, NULL, 0.01, false,
                   CASE WHEN g %% 1000 = 0 THEN %s ELSE md5('p' || (g %% 1000)) END,
                   'sent', '', '', now() - (g %% 604800) * interval '1 second', NULL, '',
                   md5('h' || g), '0000', 'GB'
            FROM generate_series(1, %s) AS g
            """,
            [user.pk, tenant.pk, measured, count],
        )
        cursor.execute("VACUUM ANALYZE intelliauth_sms_smsmessage")
        cursor.execute("VACUUM ANALYZE intelliauth_sms_smscode")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.get(slug="default")
    seeder = UserFactory(username="gate-bench-seeder")
    caller = Caller.for_user(UserFactory(username="gate-bench-sender"))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE intelliauth_sms_smsmessage, intelliauth_sms_smscode CASCADE")
    empty = measure(caller, args.runs)
    print(f"one send, empty tables:            {empty * 1000:.2f} ms (median of {args.runs})")
    began = time.perf_counter()
    seed(args.messages, tenant, seeder)
    print(f"seeded {SmsMessage.objects.count():,} messages in {time.perf_counter() - began:.0f} s")
    full = measure(caller, args.runs)
    print(f"one send, {args.messages:,} messages:  {full * 1000:.2f} ms (median of {args.runs})")
    ratio = full / empty
    print(f"ratio: {ratio:.2f} (goal: at most 1.20) -> {'met' if ratio <= 1.2 else 'MISSED'}")


if __name__ == "__main__":
    main()
