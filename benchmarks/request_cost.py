"""What one request of the app costs, next to a bare DRF view doing one indexed SELECT.

    .venv/bin/python benchmarks/request_cost.py          # SQLite, then PostgreSQL (~2 min)
    .venv/bin/python benchmarks/request_cost.py --database sqlite --calls 300
    .venv/bin/python benchmarks/request_cost.py --database postgres --broker redis://127.0.0.1:6379/13
    .venv/bin/python benchmarks/request_cost.py --database postgres --seed 1000000

Django's test client, in one process; the floor is ``POST /floor/`` (DRF parses a JSON body,
one SELECT of a user by primary key, a JSON answer), measured in the same run in
alternating blocks with the app's requests, so machine load falls on both alike. Every call
comes from its own client address and a user of its own, so no limit is hit; the numbers
spread over 200 area codes, so the SMS-pumping breaker never trips. Delivery runs in the
request (Celery eager), as the peers' sends do; ``--broker`` publishes the task to a real
broker instead (the request alone; the completes then have no code to type, so only the
sends are measured). ``--seed N`` (PostgreSQL) first measures on empty tables, then fills the
message, code and audit tables with N rows each and measures again.

Printed per request: median and p90 in milliseconds, the median as a multiple of the
floor's, and the queries of one call (statements, then transaction statements such as
SAVEPOINT). Issue 11's goals: sends (initiate, enrolment) at most 4x the floor, completes at
most 3x; each within 1.2x of its empty-table median at 10^6 rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: Calls per block; the kinds and the floor take turns block by block.
BLOCK = 25
#: Area codes the numbers spread over (each its own 7-digit prefix for the breaker).
AREA_CODES = [
    201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224,
    225, 228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270,
    276, 281, 301, 302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317, 318,
    319, 320, 321, 323, 325, 330, 331, 334, 336, 337, 339, 347, 351, 352, 360, 361, 386, 401,
    402, 404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417, 419, 423, 424, 425, 430,
    432, 434, 435, 440, 443, 469, 478, 479, 480, 484, 501, 502, 503, 504, 505, 507, 508, 509,
    510, 512, 513, 515, 516, 517, 518, 520, 530, 540, 541, 551, 559, 561, 562, 563, 567, 570,
    571, 573, 574, 575, 580, 585, 586, 601, 602, 603, 605, 606, 607, 608, 609, 610, 612, 614,
    615, 616, 617, 618, 619, 620, 623, 626, 630, 631, 636, 641, 646, 650, 651, 660, 661, 662,
    678, 682, 701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716, 717, 718, 719, 720,
    724, 727, 731, 732, 734, 740, 754, 757, 760, 763, 765, 770, 772, 773, 774, 775, 781, 785,
]  # fmt: skip


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--calls", type=int, default=300, help="calls of each request")
    parser.add_argument("--broker", default="", help="publish tasks to this broker URL")
    parser.add_argument("--seed", type=int, default=0, help="PostgreSQL: rows per table")
    return parser.parse_args()


OPTIONS = _parse()
if OPTIONS.database == "both":
    for database in ("sqlite", "postgres"):
        command = [sys.executable, __file__, "--database", database, "--calls", str(OPTIONS.calls)]
        if OPTIONS.broker:
            command += ["--broker", OPTIONS.broker]
        subprocess.run(command, check=True)  # noqa: S603 - this script, again
    raise SystemExit(0)

os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.request_settings"
os.environ["BENCH_DATABASE"] = OPTIONS.database
if OPTIONS.broker:
    os.environ["BENCH_BROKER_URL"] = OPTIONS.broker
    os.environ["BENCH_QUEUE"] = f"intelliauth-sms-request-bench-{uuid.uuid4().hex[:8]}"
if OPTIONS.database == "postgres":
    import dj_database_url
    import psycopg

    url = dj_database_url.parse(
        os.environ.setdefault(
            "BENCH_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/intelliauth_sms_request_bench",
        )
    )
    with psycopg.connect(
        host=url["HOST"], port=url["PORT"] or 5432, user=url["USER"], dbname="postgres",
        autocommit=True,
    ) as admin:  # fmt: skip
        admin.execute(f'DROP DATABASE IF EXISTS "{url["NAME"]}"')
        admin.execute(f'CREATE DATABASE "{url["NAME"]}"')

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from intelliauth_sms.backends import locmem  # noqa: E402
from intelliauth_sms.flows import start_flow  # noqa: E402
from intelliauth_sms.models import SmsFactor, Tenant  # noqa: E402
from intelliauth_sms.phone import parse_e164  # noqa: E402
from tests.conftest import CODE_IN_SMS  # noqa: E402
from tests.mfa import verified_token  # noqa: E402
from tests.query_budget import split  # noqa: E402


def phone_number(index: int) -> str:
    area = AREA_CODES[index % len(AREA_CODES)]
    return f"+1{area}55501{(index // len(AREA_CODES)) % 100:02d}"


def client_address(index: int) -> str:
    return f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


@dataclass
class Kind:
    """One request being measured: its timings and the queries of one call."""

    name: str
    timings: list[float] = field(default_factory=list)
    queries: tuple[int, int] | None = None

    def median(self) -> float:
        return statistics.median(self.timings)

    def p90(self) -> float:
        return statistics.quantiles(self.timings, n=10)[-1]


class Bench:
    """Builds what each call needs (outside the timing) and times the call."""

    def __init__(self) -> None:
        self.users = get_user_model()
        self.next_index = 0
        self.tenant = Tenant.objects.get(slug="default")
        self.floor_user = self.users.objects.create(username="floor")

    def index(self) -> int:
        self.next_index += 1
        return self.next_index

    def new_user(self) -> Any:
        return self.users.objects.create(username=f"bench-{self.index()}")

    def timed(self, kind: Kind, call: Callable[[], Any], expected: int) -> Any:
        began = time.perf_counter()
        if kind.queries is None:
            with CaptureQueriesContext(connection) as captured:
                response = call()
            ran = split([q["sql"] for q in captured.captured_queries])
            kind.queries = (len(ran.work), len(ran.transaction))
        else:
            response = call()
        kind.timings.append(time.perf_counter() - began)
        if response.status_code != expected:
            raise SystemExit(f"{kind.name}: {response.status_code} {response.content[:300]!r}")
        return response

    # --- one call of each kind ---------------------------------------------------------------

    def floor(self, kind: Kind) -> None:
        client = APIClient(REMOTE_ADDR=client_address(self.index()))
        body = {"user_id": self.floor_user.pk}
        self.timed(kind, lambda: client.post("/floor/", body, format="json"), 200)

    def enrolment(self, kind: Kind, pending: list[tuple[Any, str, str]]) -> None:
        user = self.new_user()
        client = APIClient(REMOTE_ADDR=client_address(self.index()))
        client.force_authenticate(user=user, token=verified_token())
        body = {"phone_number": phone_number(self.index())}
        response = self.timed(
            kind, lambda: client.post("/api/mfa/sms/enrolments/", body, format="json"), 201
        )
        pending.append((client, response.json()["id"], last_code()))

    def enrolment_complete(self, kind: Kind, pending: list[tuple[Any, str, str]]) -> None:
        client, enrolment_id, code = pending.pop()
        path = f"/api/mfa/sms/enrolments/{enrolment_id}/complete/"
        self.timed(kind, lambda: client.post(path, {"code": code}, format="json"), 201)

    def initiate(self, kind: Kind, flows: list[tuple[Any, str, str]]) -> None:
        user = self.new_user()
        factor = SmsFactor(user=user, tenant=self.tenant)
        factor.set_phone(parse_e164(phone_number(self.index())))
        factor.save()
        flow = start_flow(user)
        client = APIClient(REMOTE_ADDR=client_address(self.index()))
        path = f"/api/mfa/sms/flows/{flow.id}/sms/initiate/"
        self.timed(kind, lambda: client.post(path, {}, format="json"), 202)
        flows.append((client, str(flow.id), last_code()))

    def complete(self, kind: Kind, flows: list[tuple[Any, str, str]]) -> None:
        client, flow_id, code = flows.pop()
        path = f"/api/mfa/sms/flows/{flow_id}/sms/complete/"
        self.timed(kind, lambda: client.post(path, {"code": code}, format="json"), 200)


def last_code() -> str:
    if OPTIONS.broker:
        return ""  # the task was published, not run: no SMS, no code
    match = CODE_IN_SMS.search(locmem.outbox[-1].body)
    if match is None:
        raise SystemExit("no code in the SMS")
    return match.group(1)


def measure(bench: Bench, calls: int) -> dict[str, Kind]:
    """Each kind ``calls`` times, in blocks alternating with the floor."""
    names = ["floor", "POST enrolments/", "POST flows/{id}/sms/initiate/"]
    if not OPTIONS.broker:
        names[2:2] = ["POST enrolments/{id}/complete/"]
        names.append("POST flows/{id}/sms/complete/")
    kinds = {name: Kind(name) for name in names}
    pending: list[tuple[Any, str, str]] = []
    for _warm_up in range(5):  # imports, caches, prepared plans
        bench.floor(Kind("warm"))
        bench.enrolment(Kind("warm"), pending if not OPTIONS.broker else [])
        bench.initiate(Kind("warm"), [])
    pending.clear()
    for _block in range(0, calls, BLOCK):
        for _ in range(BLOCK):
            bench.floor(kinds["floor"])
        batch: list[tuple[Any, str, str]] = []
        for _ in range(BLOCK):
            bench.enrolment(kinds["POST enrolments/"], batch)
        if not OPTIONS.broker:
            for _ in range(BLOCK):
                bench.floor(kinds["floor"])
            for _ in range(BLOCK):
                bench.enrolment_complete(kinds["POST enrolments/{id}/complete/"], batch)
        for _ in range(BLOCK):
            bench.floor(kinds["floor"])
        batch = []
        for _ in range(BLOCK):
            bench.initiate(kinds["POST flows/{id}/sms/initiate/"], batch)
        if not OPTIONS.broker:
            for _ in range(BLOCK):
                bench.floor(kinds["floor"])
            for _ in range(BLOCK):
                bench.complete(kinds["POST flows/{id}/sms/complete/"], batch)
        locmem.outbox.clear()
    return kinds


def report(kinds: dict[str, Kind], title: str) -> None:
    floor = kinds["floor"].median()
    print(f"\n{title}")
    print(f"{'request':34s} {'median ms':>9s} {'p90 ms':>7s} {'x floor':>8s}  queries (+ tx)")
    for kind in kinds.values():
        queries = f"{kind.queries[0]} + {kind.queries[1]}" if kind.queries else "-"
        print(
            f"{kind.name:34s} {kind.median() * 1000:9.2f} {kind.p90() * 1000:7.2f} "
            f"{kind.median() / floor:8.1f}  {queries}"
        )


def seed(rows: int) -> None:
    """``rows`` codes, messages and audit events of another tenant's user over 7 days."""
    filler_tenant = Tenant.objects.create(name="Filler", slug="bench-filler")
    filler = get_user_model().objects.create(username="bench-filler")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO intelliauth_sms_smscode
                (id, user_id, tenant_id, purpose, subject_id, code_hash, state,
                 created_at, expires_at, used_at)
            SELECT md5('c' || g)::uuid, %s, %s, 'authentication', md5('s' || g)::uuid, 'x',
                   'used', now() - (g %% 604800) * interval '1 second', now(), NULL
            FROM generate_series(1, %s) AS g
            """,
            [filler.pk, filler_tenant.pk, rows],
        )
        cursor.execute(
            """
            INSERT INTO intelliauth_sms_smsmessage
                (id, code_id, user_id, tenant_id, purpose, subject_id, client_ip, unit_cost,
                 high_cost, prefix_hash, status, provider_message_id, provider_error, error,
                 created_at, sent_at, phone_number, phone_hash, phone_last4, country,
                 payload_check, due_at, attempts, language)
            SELECT md5('m' || g)::uuid, md5('c' || g)::uuid, %s, %s, 'authentication',
                   md5('s' || g)::uuid, NULL, 0.01, g %% 10 = 0, md5('p' || (g %% 5000)),
                   'sent', 'SM' || g, '', '', now() - (g %% 604800) * interval '1 second',
                   NULL, '', md5('h' || g), '0000', 'US', '',
                   now() - (g %% 604800) * interval '1 second', 1, ''
            FROM generate_series(1, %s) AS g
            """,
            [filler.pk, filler_tenant.pk, rows],
        )
        cursor.execute(
            """
            INSERT INTO intelliauth_sms_auditevent
                (created_at, event_type, outcome, failure_code, purpose, is_recovery, user_id,
                 tenant_id, ip_address, phone_last4, subject_id, detail)
            SELECT now() - (g %% 604800) * interval '1 second', 'code_checked', 'success', '',
                   'authentication', false, %s, %s, NULL, '0000', md5('s' || g)::uuid, '{}'
            FROM generate_series(1, %s) AS g
            """,
            [filler.pk, filler_tenant.pk, rows],
        )
        for table in ("smscode", "smsmessage", "auditevent"):
            cursor.execute(f"VACUUM ANALYZE intelliauth_sms_{table}")


def main() -> None:
    call_command("migrate", verbosity=0)
    bench = Bench()
    mode = (
        "the task published to a broker, not run" if OPTIONS.broker else "delivery in the request"
    )
    title = f"{connection.vendor}, {OPTIONS.calls} calls each, {mode}"
    empty = measure(bench, OPTIONS.calls)
    report(empty, title)
    if OPTIONS.seed:
        if connection.vendor != "postgresql":
            raise SystemExit("--seed needs --database postgres")
        began = time.perf_counter()
        seed(OPTIONS.seed)
        print(
            f"\nseeded {OPTIONS.seed:,} rows in each table in {time.perf_counter() - began:.0f} s"
        )
        full = measure(bench, OPTIONS.calls)
        report(full, f"{title}, {OPTIONS.seed:,} rows per table")
        print("\nmedian at size / median empty (goal: at most 1.2)")
        for name, kind in full.items():
            print(f"  {name:34s} {kind.median() / empty[name].median():.2f}")
    if OPTIONS.broker:
        from celery import current_app

        with current_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(os.environ["BENCH_QUEUE"])


if __name__ == "__main__":
    main()
