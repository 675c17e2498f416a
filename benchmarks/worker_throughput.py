"""Messages per second through one Celery worker: the app's delivery task with a no-op SMS
backend, next to a no-op Celery task on the same broker, in one run.

    .venv/bin/python benchmarks/worker_throughput.py                  # 2 000 tasks, 6 rounds
    .venv/bin/python benchmarks/worker_throughput.py --tasks 5000 --rounds 8
    BENCH_POOL=--pool=solo .venv/bin/python benchmarks/worker_throughput.py   # one process

Needs PostgreSQL (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/intelliauth_sms_worker_bench``, created and migrated when
missing) and Redis as broker and cache (``BENCH_BROKER_URL``, ``BENCH_CACHE_URL``).

One ``celery worker``, started as the README's production guide starts it (prefork, four
pool processes, prefetch multiplier 1; ``BENCH_POOL`` and ``BENCH_PREFETCH`` for others),
consumes a queue of its own. Each round runs three blocks of ``--tasks`` tasks: no-op tasks,
no-op tasks acknowledged late (as the delivery task is; a reference), and delivery tasks
for queued messages (each with its sealed code, as the send path leaves them). Each kind
goes first in turn, so a slow spell of the machine weighs on all three. A block is
published whole while every pool process is held by a waiting task, so the publisher's own
speed (about 1 400 tasks/s here, near the no-op rate) is not what is measured; a marker
task published after the block records when the worker reached it. The rate is tasks
divided by the time from releasing the holds to the marker.

Goal (issue 9): the delivery rate at least half the no-op rate. The ratio reported is the
median of the rounds' ratios (a round's blocks ran back to back); the ratio of the two
median rates is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.worker_settings")
os.environ.setdefault("BENCH_QUEUE", f"intelliauth-sms-bench-{uuid.uuid4().hex[:8]}")
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/intelliauth_sms_worker_bench"
)

import dj_database_url  # noqa: E402
import psycopg  # noqa: E402

_url = dj_database_url.parse(os.environ["BENCH_DATABASE_URL"])
with psycopg.connect(
    host=_url["HOST"],
    port=_url["PORT"] or 5432,
    user=_url["USER"],
    dbname="postgres",
    autocommit=True,
) as _admin:
    if not _admin.execute(
        "SELECT 1 FROM pg_database WHERE datname = %s", [_url["NAME"]]
    ).fetchone():
        _admin.execute(f'CREATE DATABASE "{_url["NAME"]}"')

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.celery_app import app, hold, mark, noop, noop_acks_late  # noqa: E402
from intelliauth_sms.crypto import code_hash, encrypt_secret  # noqa: E402
from intelliauth_sms.models import MessageStatus, SmsCode, SmsMessage, Tenant  # noqa: E402
from intelliauth_sms.phone import parse_e164  # noqa: E402
from intelliauth_sms.services.codes import generate_code  # noqa: E402
from intelliauth_sms.services.delivery_claim import payload_check  # noqa: E402
from intelliauth_sms.tasks import deliver_sms  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

QUEUE = os.environ["BENCH_QUEUE"]
#: The README's production worker by default (prefork, four pool processes: a delivery waits
#: on the provider, so a worker runs more of them than it has CPUs); ``--pool=solo`` for one.
POOL = os.environ.get("BENCH_POOL", "--pool=prefork --concurrency=4")
LOG_LEVEL = os.environ.get("BENCH_WORKER_LOG_LEVEL", "warning")
DESTINATION = parse_e164("+14155550100")
NO_OP = "no-op task"
NO_OP_LATE = "no-op task, acks_late"
DELIVERY = "delivery task"


def queued_messages(count: int, user: object, tenant: Tenant) -> list[tuple[str, str]]:
    """``count`` queued messages as the send path leaves them: (message id, sealed code)."""
    now = timezone.now()
    codes, messages, payloads = [], [], []
    for _ in range(count):
        plaintext = generate_code()
        code = SmsCode(
            user=user,
            tenant=tenant,
            purpose="authentication",
            subject_id=uuid.uuid4(),
            created_at=now,
            expires_at=now + timedelta(minutes=10),
        )
        code.code_hash = code_hash(str(code.id), plaintext)
        message = SmsMessage(
            code=code,
            user=user,
            tenant=tenant,
            purpose="authentication",
            subject_id=code.subject_id,
            created_at=now,
            due_at=now,
        )
        message.set_phone(DESTINATION)
        message.payload_check = payload_check(message.id, plaintext)
        codes.append(code)
        messages.append(message)
        payloads.append((str(message.id), encrypt_secret(plaintext)))
    SmsCode.objects.bulk_create(codes)
    SmsMessage.objects.bulk_create(messages)
    return payloads


def pool_processes() -> int:
    """How many tasks the worker runs at once: 1 for ``--pool=solo``, else ``--concurrency``."""
    words = POOL.replace("=", " ").split()
    if "solo" in words:
        return 1
    if "--concurrency" in words:
        return int(words[words.index("--concurrency") + 1])
    return os.cpu_count() or 1


def run_block(task: object, payloads: list[tuple[str, str]], store: redis.Redis) -> float:
    """Tasks per second through the worker for one block: every pool process is first held
    by a ``hold`` task, the block and its marker are published, then the holds are let go;
    the rate is the block's tasks over the time from that moment to the marker's run."""
    key = f"bench:block:{uuid.uuid4().hex}"
    processes = pool_processes()
    for _ in range(processes):
        hold.apply_async(args=(key,), queue=QUEUE)
    _wait_for(lambda: int(store.get(f"{key}:held") or 0) >= processes, "hold every process")
    for payload in payloads:
        task.apply_async(args=payload, queue=QUEUE)  # type: ignore[attr-defined]
    mark.apply_async(args=(f"{key}:done",), queue=QUEUE)
    released = time.time()
    store.rpush(key, *["go"] * processes)
    _wait_for(lambda: store.get(f"{key}:done") is not None, "finish the block")
    store.delete(key, f"{key}:held")
    return len(payloads) / (float(store.get(f"{key}:done") or 0) - released)


def run_delivery_block(tasks: int, user: object, tenant: Tenant, store: redis.Redis) -> float:
    """A block of ``tasks`` deliveries of fresh queued messages; checks every one was sent."""
    payloads = queued_messages(tasks, user, tenant)
    rate = run_block(deliver_sms, payloads, store)
    ids = [message_id for message_id, _sealed in payloads]
    sent = SmsMessage.objects.filter(pk__in=ids, status=MessageStatus.SENT).count()
    if sent != len(ids):
        raise SystemExit(f"{len(ids) - sent} messages were not sent")
    return rate


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 600
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"the worker did not {what} within 10 minutes")
        time.sleep(0.005)


def start_worker(log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "celery", "-A", "benchmarks.celery_app", "worker",
        *POOL.split(), "-Q", QUEUE, "-l", LOG_LEVEL, "-n", f"{QUEUE}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), stdout=out, stderr=out)  # noqa: S603


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    options = parser.parse_args()

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.get(slug="default")
    user = UserFactory()
    store = redis.Redis.from_url(app.conf.broker_url)
    log = Path(tempfile.gettempdir()) / f"{QUEUE}.log"
    worker = start_worker(log)
    try:
        # Warm up: the worker connects, imports, opens its database connection.
        run_block(noop, [("warm", "up")] * 50, store)
        run_block(deliver_sms, queued_messages(50, user, tenant), store)
        no_op = [("x", "y")] * options.tasks
        blocks: dict[str, Callable[[], float]] = {
            NO_OP: lambda: run_block(noop, no_op, store),
            NO_OP_LATE: lambda: run_block(noop_acks_late, no_op, store),
            DELIVERY: lambda: run_delivery_block(options.tasks, user, tenant, store),
        }
        rates: dict[str, list[float]] = {kind: [] for kind in blocks}
        order = list(blocks)
        for round_number in range(options.rounds):
            # Each kind goes first in turn.
            shift = round_number % len(order)
            for kind in order[shift:] + order[:shift]:
                rates[kind].append(blocks[kind]())
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        SmsMessage.objects.filter(user=user).delete()
        SmsCode.objects.filter(user=user).delete()
        user.delete()
        connection.close()

    print(f"{options.tasks} tasks per block, {options.rounds} rounds, one worker: {POOL}, "
          f"prefetch {app.conf.worker_prefetch_multiplier}")  # fmt: skip
    for kind, values in rates.items():
        print(f"  {kind:24s} median {statistics.median(values):7.0f} /s   rounds: "
              + ", ".join(f"{v:.0f}" for v in values))  # fmt: skip
    for floor, label in ((NO_OP, "(goal: at least 0.50)"), (NO_OP_LATE, "(a reference)")):
        ratios = [d / n for d, n in zip(rates[DELIVERY], rates[floor], strict=True)]
        of_medians = statistics.median(rates[DELIVERY]) / statistics.median(rates[floor])
        print(f"  delivery / {floor}: {statistics.median(ratios):.2f} {label}   rounds: "
              + ", ".join(f"{r:.2f}" for r in ratios)
              + f"   ratio of the median rates: {of_medians:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
