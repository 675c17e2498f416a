"""How fast the console's audit changelist is on 1 000 000 events in PostgreSQL.

    .venv/bin/python benchmarks/admin_changelist.py            # seed once, then measure
    .venv/bin/python benchmarks/admin_changelist.py --reseed   # drop the events and seed again
    .venv/bin/python benchmarks/admin_changelist.py --events 200000 --runs 5

It uses its own database (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/intelliauth_sms_bench``), created and migrated when
missing. Seeding writes the events with one ``INSERT … SELECT … FROM generate_series`` (about
a minute for a million rows with every index in place), then ``VACUUM ANALYZE``s the table.

The data: three tenants (70 % / 25 % / 5 % of the events, about 90 days of them), 3 000
users, the mix of event types a busy site produces (sends, code checks, refusals with their
failure codes, lockouts, reveals and unlocks by support staff, policy changes, and about
1.5 % recovery events).

Each page is requested through Django's test client (URL routing, middleware, the admin
view, the template): the time reported is the server's time to build the response, with
no network. Every page is warmed up, then timed ``--runs`` times; the table shows the
median and the slowest run, and the queries the page ran. The goal is under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

GOAL_MS = 300

# (share of events, tenant slug, name, users)
TENANTS = [
    (0.70, "acme", "Acme", 2100),
    (0.25, "globex", "Globex", 750),
    (0.05, "default", "Default", 150),
]

# (event type, outcome, failure code, purpose, recovery, by support staff, has a number, share)
EVENT_MIX = [
    ("sms_sent", "success", "", "authentication", False, False, True, 0.35),
    ("sms_sent", "success", "", "enrolment", False, False, True, 0.04),
    ("code_checked", "success", "", "authentication", False, False, True, 0.24),
    ("code_checked", "failure", "invalid_code", "authentication", False, False, True, 0.05),
    ("code_checked", "failure", "code_expired", "authentication", False, False, True, 0.015),
    ("sms_refused", "failure", "rate_limited", "authentication", False, False, True, 0.045),
    ("sms_refused", "failure", "country_not_allowed", "enrolment", False, False, True, 0.02),
    ("sms_refused", "failure", "cost_cap_reached", "enrolment", False, False, True, 0.008),
    ("flow_step_refused", "failure", "locked", "authentication", False, False, False, 0.012),
    (
        "enrolment_refused",
        "failure",
        "invalid_phone_number",
        "enrolment",
        False,
        False,
        False,
        0.02,
    ),
    ("mfa_verified", "success", "", "authentication", False, False, True, 0.07),
    ("flow_login", "success", "", "", False, False, False, 0.06),
    ("factor_enrolled", "success", "", "", False, False, True, 0.02),
    ("factor_removed", "success", "", "", False, False, True, 0.005),
    ("lockout_started", "failure", "locked", "authentication", False, False, False, 0.01),
    ("sms_disabled", "failure", "locked", "authentication", False, False, False, 0.0015),
    ("user_unlocked", "success", "", "", False, True, False, 0.002),
    ("number_revealed", "success", "", "", False, True, True, 0.01),
    ("policy_changed", "success", "", "", False, True, False, 0.0005),
    ("sms_delivery_failed", "failure", "", "authentication", False, False, True, 0.006),
    ("recovery_requested", "success", "", "recovery", True, False, True, 0.005),
    ("recovery_requested", "failure", "invalid_credentials", "recovery", True, False, False, 0.003),
    ("sms_sent", "success", "", "recovery", True, False, True, 0.004),
    ("code_checked", "success", "", "recovery", True, False, True, 0.002),
    ("recovery_completed", "success", "", "recovery", True, False, False, 0.001),
]


def event_mix() -> str:
    """``EVENT_MIX`` as JSON rows with cumulative ranges for the seeding query to pick from."""
    rows, low = [], 0.0
    names = ["event_type", "outcome", "failure_code", "purpose", "is_recovery", "by_staff"]
    for *values, has_phone, share in EVENT_MIX:
        high = low + share
        row = dict(zip(names, values, strict=True))
        rows.append({**row, "has_phone": has_phone, "low": low, "high": high})
        low = high
    rows[-1]["high"] = 1.01  # rounding: every draw lands somewhere
    return json.dumps(rows)


# One INSERT ... SELECT: each row draws five random numbers and maps them to an event.
SEED_SQL = """
INSERT INTO intelliauth_sms_auditevent
    (created_at, event_type, outcome, failure_code, purpose, is_recovery,
     user_id, actor_id, tenant_id, ip_address, phone_last4, subject_id, detail)
SELECT
    now() - (s.r_time * interval '90 days'),
    e.event_type,
    e.outcome,
    e.failure_code,
    e.purpose,
    e.is_recovery,
    CASE WHEN e.event_type = 'policy_changed' THEN NULL
         ELSE t.first_user + floor(s.r_user * t.users)::int END,
    CASE WHEN e.by_staff THEN t.support END,
    t.tenant_id,
    ('10.' || (s.g %% 200) || '.' || (s.g %% 250) || '.' || (s.g %% 17 + 1))::inet,
    CASE WHEN e.has_phone THEN lpad((s.g %% 10000)::text, 4, '0') ELSE '' END,
    NULL,
    CASE WHEN e.by_staff AND e.event_type <> 'policy_changed'
         THEN jsonb_build_object('reason', 'ticket ' || (s.g %% 5000))
         WHEN e.event_type = 'policy_changed'
         THEN jsonb_build_object('target', 'tenant_policy', 'field', 'ip_sms_per_hour',
                                 'old', 20, 'new', 30)
         ELSE '{}'::jsonb END
FROM (
    SELECT g, random() AS r_type, random() AS r_sub, random() AS r_tenant,
           random() AS r_user, random() AS r_time
    FROM generate_series(1, %(events)s) AS g
) AS s
CROSS JOIN LATERAL (
    SELECT tenant_id, first_user, users, support FROM bench_tenants
    WHERE s.r_tenant >= low AND s.r_tenant < high
) AS t
CROSS JOIN LATERAL (
    SELECT * FROM jsonb_to_recordset(%(mix)s::jsonb) AS v(
        event_type text, outcome text, failure_code text, purpose text, is_recovery bool,
        by_staff bool, has_phone bool, low float8, high float8
    )
    WHERE s.r_type >= v.low AND s.r_type < v.high
) AS e
"""


def ensure_database() -> None:
    """Create the benchmark database when it does not exist yet."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    conninfo = {
        "host": db["HOST"] or None,
        "port": db["PORT"] or None,
        "user": db["USER"] or None,
        "password": db["PASSWORD"] or None,
        "dbname": "postgres",
    }
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')
            print(f"created database {db['NAME']}")


def seed(events: int, reseed: bool) -> dict[str, Any]:
    """Tenants, users, staff and ``events`` audit events; returns who to sign in as."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from intelliauth_sms.models import AuditEvent, Tenant, TenantMembership

    user_model = get_user_model()
    tenants = {}
    for _share, slug, name, _users in TENANTS:
        tenants[slug], _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": name})
    support, _ = user_model.objects.get_or_create(
        username="bench-support", defaults={"is_staff": True}
    )
    superuser, _ = user_model.objects.get_or_create(
        username="bench-root", defaults={"is_staff": True, "is_superuser": True}
    )
    TenantMembership.objects.get_or_create(
        user=support, tenant=tenants["acme"], defaults={"role": TenantMembership.Role.SUPPORT}
    )

    have = AuditEvent.objects.count()
    if have == events and not reseed:
        print(f"{have} events already seeded (--reseed to seed again)")
    else:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE intelliauth_sms_auditevent RESTART IDENTITY")
            cursor.execute("DROP TABLE IF EXISTS bench_tenants")
            cursor.execute(
                "CREATE TEMP TABLE bench_tenants (tenant_id bigint, first_user int, users int,"
                " support int, low float8, high float8) ON COMMIT DROP"
            )
            low = 0.0
            for share, slug, _name, count in TENANTS:
                names = [f"bench-{slug}-{n}" for n in range(count)]
                existing = set(
                    user_model.objects.filter(username__in=names).values_list("username", flat=True)
                )
                user_model.objects.bulk_create(
                    [user_model(username=n) for n in names if n not in existing], batch_size=1000
                )
                ids = sorted(
                    user_model.objects.filter(username__in=names).values_list("pk", flat=True)
                )
                # The SQL picks a tenant's users as a range of ids: they must be contiguous.
                if ids[-1] - ids[0] + 1 != len(ids):
                    raise SystemExit(f"the {slug} users' ids are not contiguous: drop the database")
                high = 1.01 if slug == TENANTS[-1][1] else low + share
                cursor.execute(
                    "INSERT INTO bench_tenants VALUES (%s, %s, %s, %s, %s, %s)",
                    [tenants[slug].pk, ids[0], len(ids), support.pk, low, high],
                )
                low = high
            cursor.execute("SELECT setseed(0.42)")
            cursor.execute(SEED_SQL, {"events": events, "mix": event_mix()})
        print(f"seeded {events} events in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute("VACUUM ANALYZE intelliauth_sms_auditevent")
            print(f"VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")
    return {"support": support, "superuser": superuser, "tenants": tenants}


def measure(client: Any, url: str, runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get() -> int:
        response = client.get(url)
        if response.streaming:
            size = sum(len(chunk) for chunk in response.streaming_content)
        else:
            size = len(response.content)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        return size

    for _ in range(2):
        get()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        get()
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        get()
    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    return {
        "url": url,
        "median_ms": statistics.median(times),
        "max_ms": max(times),
        "queries": len(queries.captured_queries),
        "sql_ms": sql_ms,
    }


def raw_costs() -> list[tuple[str, float]]:
    """What Django's defaults would have run on every page load, for comparison."""
    from django.db import connection

    statements = [
        (
            "COUNT(*) over the whole table (show_full_result_count)",
            "SELECT COUNT(*) FROM intelliauth_sms_auditevent",
        ),
        (
            "COUNT(*) over one tenant's events (the paginator)",
            "SELECT COUNT(*) FROM intelliauth_sms_auditevent WHERE tenant_id ="
            " (SELECT id FROM intelliauth_sms_tenant WHERE slug = 'acme')",
        ),
        (
            "SELECT DISTINCT month over one tenant (date_hierarchy)",
            "SELECT DISTINCT date_trunc('month', created_at) FROM intelliauth_sms_auditevent"
            " WHERE tenant_id = (SELECT id FROM intelliauth_sms_tenant WHERE slug = 'acme')",
        ),
        (
            "SELECT DISTINCT failure_code (AllValuesFieldListFilter)",
            "SELECT DISTINCT failure_code FROM intelliauth_sms_auditevent",
        ),
    ]
    results = []
    with connection.cursor() as cursor:
        for label, sql in statements:
            cursor.execute(sql)
            cursor.fetchall()
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            results.append((label, (time.perf_counter() - started) * 1000))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    import django

    django.setup()
    ensure_database()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0, skip_checks=True)
    people = seed(args.events, args.reseed)
    acme = people["tenants"]["acme"]
    globex = people["tenants"]["globex"]
    day = timezone.localtime() - timedelta(days=30)
    base = "/admin/intelliauth_sms/auditevent/"
    day_query = (
        f"created_at__year={day.year}&created_at__month={day.month}&created_at__day={day.day}"
    )

    scenarios = {
        "support": [
            ("unfiltered, page 1", base),
            ("unfiltered, page 50", f"{base}?p=50"),
            ("event type = sms_refused", f"{base}?event_type__exact=sms_refused"),
            ("event type = sms_disabled (rare)", f"{base}?event_type__exact=sms_disabled"),
            ("outcome = failure", f"{base}?outcome__exact=failure"),
            ("failure code = country_not_allowed", f"{base}?failure_code=country_not_allowed"),
            ("recovery events (preset)", f"{base}?recovery=yes"),
            ("recovery + failure", f"{base}?recovery=yes&outcome__exact=failure"),
            ("one day (date hierarchy)", f"{base}?{day_query}"),
            ("search by username", f"{base}?q=bench-acme-17"),
            ("search by staff username (actor)", f"{base}?q=bench-support"),
            ("CSV export of one day", f"/admin/intelliauth_sms/auditevent/export/?{day_query}"),
            ("Today page", f"/admin/intelliauth_sms/tenant/{acme.pk}/today/"),
        ],
        "superuser": [
            ("unfiltered, page 1 (all tenants)", base),
            ("event type = sms_refused", f"{base}?event_type__exact=sms_refused"),
            ("event type = sms_disabled (rare)", f"{base}?event_type__exact=sms_disabled"),
            ("failure code = cost_cap_reached", f"{base}?failure_code=cost_cap_reached"),
            ("tenant = Globex", f"{base}?tenant={globex.pk}"),
            ("recovery events (preset)", f"{base}?recovery=yes"),
            ("recovery + failure", f"{base}?recovery=yes&outcome__exact=failure"),
            ("search by username", f"{base}?q=bench-globex-3"),
        ],
    }

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), pg_size_pretty(pg_total_relation_size('intelliauth_sms_auditevent'))"
            " FROM intelliauth_sms_auditevent"
        )
        total, size = cursor.fetchone()
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    print(f"\nPostgreSQL {version}; {total} audit events ({size} with indexes);", end=" ")
    print(f"{args.runs} runs per page\n")

    results: dict[str, list[dict[str, Any]]] = {}
    print("| who | page | median ms | slowest ms | queries | SQL ms |")
    print("|---|---|---:|---:|---:|---:|")
    for who, pages in scenarios.items():
        client = Client()
        client.force_login(people[who])
        results[who] = []
        for label, url in pages:
            result = {"who": who, "label": label, **measure(client, url, args.runs)}
            results[who].append(result)
            print(
                f"| {who} | {label} | {result['median_ms']:.0f} | {result['max_ms']:.0f} |"
                f" {result['queries']} | {result['sql_ms']:.0f} |"
            )

    print("\nWhat Django's defaults would add to every page load (one run each):\n")
    for label, ms in raw_costs():
        print(f"* {label}: {ms:.0f} ms")

    pages = [r for rows in results.values() for r in rows if "export" not in r["url"]]
    slowest = max(pages, key=lambda r: r["median_ms"])
    verdict = "met" if slowest["median_ms"] < GOAL_MS else "NOT met"
    print(
        f"\nGoal {GOAL_MS} ms per changelist page {verdict}: slowest median"
        f" {slowest['median_ms']:.0f} ms ({slowest['who']}, {slowest['label']})."
    )
    if args.json:
        args.json.write_text(
            json.dumps({"events": total, "postgres": version, "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
