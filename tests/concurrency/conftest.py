"""The services tier's fixtures: real PostgreSQL, Redis, a Celery broker and a Celery worker.

Every test in this package is marked ``services`` and runs only with ``make
test-services`` (``tests.settings_services``). A missing service fails the test with the
reason; nothing here skips. ``run_concurrently`` lines threads up on a barrier for the race
tests; ``worker`` is a real ``celery worker`` process consuming a queue of its own.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import pytest
from celery import current_app
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from tests.celery_app import app as celery_app

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Bounded waits on other processes (the worker starting, a task being consumed).
WORKER_START_TIMEOUT = 60.0
TASK_TIMEOUT = 30.0

T = TypeVar("T")


# --- the services must be there -----------------------------------------------------------


def _broker_problem() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure is reported, whatever its type
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def services_reachable() -> None:
    """Fail (never skip) unless PostgreSQL, a Redis cache and the broker all answer."""
    if connection.vendor != "postgresql":
        pytest.fail(
            "The services tier needs PostgreSQL, but the database is "
            f"{connection.vendor!r}. Run it with `make test-services` "
            "(DJANGO_SETTINGS_MODULE=tests.settings_services).",
            pytrace=False,
        )
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.fail(
            f"The services tier needs the Redis cache, not {type(cache).__name__}.", pytrace=False
        )
    probe = f"services-probe-{uuid.uuid4().hex}"
    try:
        cache.set(probe, "1", 10)
        answered = cache.get(probe)
        cache.delete(probe)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis cache unreachable: {type(exc).__name__}: {exc}", pytrace=False)
    if answered != "1":
        pytest.fail("The Redis cache did not return what was stored in it.", pytrace=False)
    problem = _broker_problem()
    if problem:
        pytest.fail(
            f"Celery broker {celery_app.conf.broker_url!r} unreachable: {problem}", pytrace=False
        )


@pytest.fixture(autouse=True)
def _services_only(services_reachable: None) -> None:
    """Every test in this package checks its services first."""


# --- threads ------------------------------------------------------------------------------


def run_concurrently(count: int, action: Callable[[int], T], *, timeout: float = 60) -> list[T]:
    """Run ``action(0..count-1)`` in ``count`` threads released together by a barrier.

    Each thread opens its own database connection before the barrier (so the calls overlap
    instead of queueing behind connection set-up) and closes it at the end. The first
    exception of any thread is re-raised here.
    """
    barrier = threading.Barrier(count, timeout=timeout)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            results[index] = action(index)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results


# --- the Celery worker ----------------------------------------------------------------------


@dataclass(frozen=True)
class Worker:
    """A running ``celery worker`` process: its queue, node name, SMS directory and log."""

    process: subprocess.Popen[bytes]
    queue: str
    nodename: str
    outbox: Path
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def sms_files(self) -> list[Path]:
        """The finished SMS files (the backend writes a hidden temporary file, then renames)."""
        return sorted(self.outbox.glob("*.json"))

    def sent(self) -> list[dict[str, str]]:
        return [json.loads(path.read_text()) for path in self.sms_files()]


def _database_url(settings_dict: dict[str, Any]) -> str:
    """A ``postgres://`` URL for the database pytest-django created (``test_…``)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    name = quote(settings_dict["NAME"], safe="")
    options = {k: v for k, v in (settings_dict.get("OPTIONS") or {}).items() if isinstance(v, str)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{credentials}{host}{port}/{name}{query}"


def _pinged(nodename: str) -> bool:
    try:
        replies = celery_app.control.ping(destination=[nodename], timeout=0.5)
    except Exception:  # noqa: BLE001 - not up yet
        return False
    return any(nodename in reply for reply in replies or [])


@pytest.fixture(scope="session")
def celery_worker_process(
    services_reachable: None, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    """Start ``celery worker --pool=solo`` on the test database; stop it at session end.

    The worker consumes a queue named for this session only, so a worker of another run on
    the same broker cannot take these tasks. ``INTELLIAUTH_SMS_FILE_PATH`` gives it the
    filebased backend (``tests.settings_services``). It is started after pytest-django
    created the test database and stopped before the database is dropped.
    """
    base = tmp_path_factory.mktemp("celery-worker")
    outbox = base / "sms"
    outbox.mkdir()
    log = base / "worker.log"
    queue = f"intelliauth-sms-tests-{uuid.uuid4().hex[:12]}"
    nodename = f"{queue}@{socket.gethostname()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_services",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "INTELLIAUTH_SMS_FILE_PATH": str(outbox),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker",
        "--pool=solo", "--concurrency=1", "-l", "info", "-n", nodename, "-Q", queue,
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - fixed command, our own interpreter
            command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    worker = Worker(process=process, queue=queue, nodename=nodename, outbox=outbox, log=log)
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not _pinged(nodename):
            if process.poll() is not None:
                pytest.fail(
                    f"The Celery worker exited with {process.returncode}:\n{worker.log_tail()}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The Celery worker did not answer a ping within {WORKER_START_TIMEOUT:.0f} s:"
                    f"\n{worker.log_tail()}",
                    pytrace=False,
                )
        yield worker
    finally:
        process.terminate()  # warm shutdown: finishes the task in hand
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        _forget_queue(queue)


def _forget_queue(queue: str) -> None:
    """Delete the session's queue, and on Redis the exchange bindings kombu leaves behind."""
    try:
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
            if conn.transport_cls == "redis" or conn.transport.driver_type == "redis":
                client = conn.default_channel.client
                client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    except Exception:  # noqa: BLE001, S110 - tidying the broker is best effort
        pass


@pytest.fixture
def worker(
    celery_worker_process: Worker, transactional_db: None, settings: Any
) -> Iterator[Worker]:
    """The worker, for one test: tasks go to the broker (not eager), on the worker's queue.

    Transactional database only: the worker is another process and sees committed rows.
    """
    if celery_worker_process.process.poll() is not None:
        pytest.fail(f"The Celery worker died:\n{celery_worker_process.log_tail()}", pytrace=False)
    settings.INTELLIAUTH_SMS = {
        **settings.INTELLIAUTH_SMS,
        "CELERY_QUEUE": celery_worker_process.queue,
    }
    for leftover in celery_worker_process.outbox.iterdir():
        leftover.unlink()
    # The app's shared tasks bind to Celery's *current* app: tests.celery_app's, or
    # example_project's when something imported that package (it creates its app), both
    # configured from the same Django settings. Every one of them stops running tasks
    # inline for this test.
    apps = {id(app): app for app in (celery_app, current_app._get_current_object())}.values()
    eager = {app: app.conf.task_always_eager for app in apps}
    for app in apps:
        app.conf.task_always_eager = False
    try:
        yield celery_worker_process
    finally:
        for app, value in eager.items():
            app.conf.task_always_eager = value


def wait_for(predicate: Callable[[], T], *, what: str, worker: Worker | None = None) -> T:
    """Poll ``predicate`` until it returns something truthy, at most ``TASK_TIMEOUT`` seconds.

    Polling is the one way to observe another process; the wait is bounded and the failure
    message carries the worker's log.
    """
    deadline = time.monotonic() + TASK_TIMEOUT
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            log = f"\nworker log:\n{worker.log_tail()}" if worker else ""
            raise AssertionError(f"timed out after {TASK_TIMEOUT:.0f} s waiting for {what}{log}")
        time.sleep(0.05)
