"""Replay an SMS-pumping attack through the real API, in-process, and print what it cost.

    .venv/bin/python benchmarks/pumping.py                  # 10 000 attempts, both modes
    .venv/bin/python benchmarks/pumping.py --attempts 2000  # a quicker run

The attack (issue 10): enrolment attempts from 2 500 accounts and 500 client addresses to
sequential numbers of one high-cost prefix (+44 7400 1…), mixed with legitimate users in
other countries and in the same country (other prefixes), who type their codes back. It
runs once with the breaker in ``enforce`` and once in ``monitor``, each on a fresh
in-memory SQLite database, through Django's test client (routing, middleware, the API,
the gate, eager Celery delivery to the locmem backend; no network). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from intelliauth_sms.backends import locmem  # noqa: E402
from intelliauth_sms.models import (  # noqa: E402
    AuditEvent,
    CountryRule,
    SmsMessage,
    Tenant,
    TenantPolicy,
)
from tests.conftest import CODE_IN_SMS  # noqa: E402
from tests.factories import UserFactory  # noqa: E402
from tests.mfa import verified_token  # noqa: E402

ATTACK_PREFIX = "+4474001"
UNIT_COST = Decimal("0.25")
DAILY_CAP = Decimal("50.00")
ACCOUNTS, ADDRESSES = 2_500, 500
#: One legitimate enrolment every this many attack attempts.
LEGIT_EVERY = 40
LEGIT_NUMBERS = [
    "+1415555{:04d}",  # United States
    "+4915123{:06d}",  # Germany
    "+447911{:06d}",  # the United Kingdom, the attacked country, another prefix
    "+447400{:06d}",  # the United Kingdom, the attacked range's neighbour (4474000…)
]


@dataclass
class Outcome:
    mode: str
    attempts: int = 0
    attack_sent: int = 0
    attack_refused: dict[str, int] | None = None
    legit_tried: int = 0
    legit_enrolled: int = 0
    trips: int = 0
    spend: Decimal = Decimal("0")
    seconds: float = 0.0


def _fresh_database(mode: str) -> Tenant:
    call_command("flush", interactive=False, verbosity=0)
    tenant = Tenant.objects.get(slug="default")
    # Monitor mode shows the breaker letting every send through, so no cost cap stops them.
    cap = DAILY_CAP if mode == "enforce" else None
    TenantPolicy.objects.filter(tenant=tenant).update(
        pumping_protection=mode, daily_high_cost_cap=cap
    )
    CountryRule.objects.create(tenant=tenant, country="GB", unit_cost=UNIT_COST, high_cost=True)
    return tenant


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user, token=verified_token())
    return client


def _enrol_legitimately(index: int, outcome: Outcome) -> None:
    user = UserFactory(username=f"legit-{index}")
    client = _client(user)
    template = LEGIT_NUMBERS[index % len(LEGIT_NUMBERS)]
    ip = f"198.51.100.{index % 250 + 1}"
    outcome.legit_tried += 1
    sent_before = len(locmem.outbox)
    started = client.post(
        "/api/mfa/sms/enrolments/",
        {"phone_number": template.format(index)},
        format="json",
        REMOTE_ADDR=ip,
    )
    if started.status_code != 201 or len(locmem.outbox) == sent_before:
        return
    match = CODE_IN_SMS.search(locmem.outbox[-1].body)
    done = client.post(
        f"/api/mfa/sms/enrolments/{started.json()['id']}/complete/",
        {"code": match.group(1) if match else ""},
        format="json",
        REMOTE_ADDR=ip,
    )
    outcome.legit_enrolled += done.status_code == 201


def run(mode: str, attempts: int) -> Outcome:
    """The whole attack in one mode; returns what it cost."""
    _fresh_database(mode)
    locmem.outbox.clear()
    accounts = [UserFactory(username=f"pump-{i}") for i in range(ACCOUNTS)]
    clients = [_client(account) for account in accounts]
    outcome = Outcome(mode=mode, attack_refused={})
    began = time.perf_counter()
    for attempt in range(attempts):
        if attempt % LEGIT_EVERY == 0:
            _enrol_legitimately(attempt // LEGIT_EVERY, outcome)
        response = clients[attempt % ACCOUNTS].post(
            "/api/mfa/sms/enrolments/",
            {"phone_number": f"{ATTACK_PREFIX}{attempt:05d}"},
            format="json",
            REMOTE_ADDR=f"203.0.113.{attempt % ADDRESSES % 250 + 1}"
            if attempt % ADDRESSES < 250
            else f"192.0.2.{attempt % ADDRESSES % 250 + 1}",
        )
        outcome.attempts += 1
        if response.status_code != 201:
            code = response.json()["error"]["code"]
            outcome.attack_refused[code] = outcome.attack_refused.get(code, 0) + 1
    outcome.seconds = time.perf_counter() - began
    attack = SmsMessage.objects.filter(user__username__startswith="pump-")
    outcome.attack_sent = attack.count()
    outcome.spend = sum((m.unit_cost for m in attack.only("unit_cost")), Decimal("0"))
    outcome.trips = AuditEvent.objects.filter(event_type="pumping_breaker_tripped").count()
    return outcome


def report(outcome: Outcome) -> None:
    legit = 100 * outcome.legit_enrolled / max(1, outcome.legit_tried)
    print(f"\n== pumping_protection = {outcome.mode}")
    print(f"attack attempts                 {outcome.attempts}")
    print(f"attack SMS sent (went out)      {outcome.attack_sent}")
    print(f"attack refusals by reason       {outcome.attack_refused}")
    cap = DAILY_CAP if outcome.mode == "enforce" else "none in monitor mode"
    print(f"cost of the attack to the tenant {outcome.spend:.2f} (daily cap {cap})")
    print(f"breaker trips recorded          {outcome.trips}")
    print(
        f"legitimate users enrolled       {outcome.legit_enrolled} / {outcome.legit_tried} "
        f"({legit:.1f} %)"
    )
    print(f"wall time                       {outcome.seconds:.1f} s")
    if outcome.mode == "enforce":
        print(f"goal: stopped within 50 sends   {'met' if outcome.attack_sent <= 50 else 'MISSED'}")
        print(
            f"goal: cost <= one day's cap     {'met' if outcome.spend <= DAILY_CAP else 'MISSED'}"
        )
        print(f"goal: 100 % legitimate enrolled {'met' if legit == 100 else 'MISSED'}")
    else:
        sent_all = outcome.attack_sent == outcome.attempts
        print(f"goal: every attack send went out {'met' if sent_all else 'MISSED'}")
        print(f"goal: the trip is recorded      {'met' if outcome.trips >= 1 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--modes", default="enforce,monitor")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} (in memory); attempts: {args.attempts}")
    for mode in args.modes.split(","):
        report(run(mode, args.attempts))


if __name__ == "__main__":
    main()
