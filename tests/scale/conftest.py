"""The scale tier: gunicorn with 4 workers, two Celery worker processes and Celery beat on
this machine's PostgreSQL and Redis, driven over HTTP by concurrent clients.

Every test here is marked ``scale`` and runs with ``make test-scale``. The tier starts its
own Redis broker (``redis-server`` on the port of ``CELERY_BROKER_URL``) so that a test can
stop and restart it without touching the cache, and its own fake Twilio API on 127.0.0.1,
which records every SMS handed to it and every delivery task the workers report before its
claim (``tests.scale.worker_hooks``). A test may kill a whole worker and start it again
(``Stack.kill_whole``, ``Stack.start``). A missing service fails the tier; nothing skips.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import pytest
import urllib3
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from kombu.exceptions import ChannelError

from tests.celery_app import app as celery_app
from tests.concurrency.conftest import _database_url, _pinged
from tests.scale.worker_hooks import CLAIM_REPORT_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
WAIT_TIMEOUT = 45.0
GUNICORN_WORKERS = 4
CELERY_WORKERS = 2
#: Beat's task, published every second whatever the tests do.
SWEEP = "intelliauth_sms.sweep_queued"

T = TypeVar("T")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/scale/" in str(item.path):
            item.add_marker(pytest.mark.scale)


def wait_until(predicate: Callable[[], T | None], *, what: str, timeout: float = WAIT_TIMEOUT) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the fake Twilio API ----------------------------------------------------------------------


@dataclass
class HandedOver:
    """One SMS the fake provider received: destination, text and the id it answered."""

    to: str
    body: str
    sid: str


@dataclass(frozen=True)
class ClaimReport:
    """A delivery task about to claim its message, as the workers' hook reported it
    (``tests.scale.worker_hooks``): which message, which task, which Celery node, and when
    (this process's ``time.monotonic()``)."""

    message_id: str
    task_id: str
    node: str
    at: float


@dataclass
class FakeTwilio:
    """Twilio's Messages endpoint on 127.0.0.1: a unique ``sid`` for each SMS.

    ``hold(number)`` makes requests to ``number`` wait (recorded first, answered only once
    released): the moment a worker is mid-send. The workers also report here each delivery
    task before it claims its message (``claims``); ``hold_before_claim()`` makes the next
    report wait until ``claim_release``: the moment a worker received a task and has not
    claimed its message yet.
    """

    url: str = ""
    received: list[HandedOver] = field(default_factory=list)
    held_numbers: set[str] = field(default_factory=set)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    claims: list[ClaimReport] = field(default_factory=list)
    hold_next_claim: bool = False
    claim_arrived: threading.Event = field(default_factory=threading.Event)
    claim_release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, number: str) -> None:
        self.held_numbers.add(number)
        self.arrived.clear()
        self.release.clear()

    def hold_before_claim(self) -> None:
        """Hold the next delivery task that reports, before its claim."""
        self.claim_arrived.clear()
        self.claim_release.clear()
        with self.lock:
            self.hold_next_claim = True

    def report_claim(self, report: ClaimReport) -> bool:
        """Record a report; whether it is the one to hold."""
        with self.lock:
            self.claims.append(report)
            held, self.hold_next_claim = self.hold_next_claim, False
        if held:
            self.claim_arrived.set()
        return held

    def to(self, number: str) -> list[HandedOver]:
        with self.lock:
            return [sms for sms in self.received if sms.to == number]

    def claims_of(self, message_id: Any) -> list[ClaimReport]:
        """The runs of message ``message_id``'s delivery tasks so far, in order."""
        with self.lock:
            return [claim for claim in self.claims if claim.message_id == str(message_id)]

    def release_all(self) -> None:
        self.release.set()
        self.claim_release.set()

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.claims.clear()
            self.hold_next_claim = False
        self.held_numbers.clear()
        self.release_all()


def _serve_fake_twilio() -> tuple[FakeTwilio, ThreadingHTTPServer]:
    fake = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            form = dict(parse_qsl(raw))
            if self.path == CLAIM_REPORT_PATH:
                self.claim_reported(form)
            else:
                self.sms(form)

        def sms(self, form: dict[str, str]) -> None:
            sid = f"SM{uuid.uuid4().hex}"
            with fake.lock:
                fake.received.append(HandedOver(form.get("To", ""), form.get("Body", ""), sid))
            if form.get("To") in fake.held_numbers:
                fake.arrived.set()
                fake.release.wait(WAIT_TIMEOUT)
            self.answer(201, {"sid": sid, "status": "queued"})

        def claim_reported(self, form: dict[str, str]) -> None:
            report = ClaimReport(form["message"], form["task"], form["node"], time.monotonic())
            if fake.report_claim(report):
                fake.claim_release.wait(WAIT_TIMEOUT)
            self.answer(200, {})

        def answer(self, status: int, body: dict[str, str]) -> None:
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the worker that sent it was killed

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    return fake, server


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[FakeTwilio]:
    fake, server = _serve_fake_twilio()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    fake.release_all()
    server.shutdown()
    server.server_close()


# --- the broker ---------------------------------------------------------------------------------


@dataclass
class RedisBroker:
    """The tier's own ``redis-server``, which tests stop and start again."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail("The scale tier needs redis-server on PATH.", pytrace=False)
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed command
                [
                    executable,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                    "--dir",
                    str(self.directory),
                ],  # fmt: skip
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self.answers, what=f"redis-server on port {self.port}", timeout=15)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisBroker]:
    url = urlsplit(settings.CELERY_BROKER_URL)
    if url.scheme != "redis" or url.hostname not in ("127.0.0.1", "localhost") or not url.port:
        pytest.fail(
            "The scale tier starts its own Redis broker: CELERY_BROKER_URL must be "
            f"redis://127.0.0.1:<port>/<db>, not {settings.CELERY_BROKER_URL!r}.",
            pytrace=False,
        )
    broker = RedisBroker(port=url.port, directory=tmp_path_factory.mktemp("broker"))
    if broker.answers():
        pytest.fail(
            f"Port {url.port} already answers: the scale tier's broker must be its own "
            "(set SCALE_BROKER_PORT to a free port).",
            pytrace=False,
        )
    broker.start()
    yield broker
    broker.stop()


# --- the processes ------------------------------------------------------------------------------


@dataclass
class Stack:
    """gunicorn, the Celery workers and beat, and what the tests need to reach them (and to
    start a killed worker again: each process's command, the environment, the workers'
    Celery node names)."""

    base_url: str
    queue: str
    processes: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]
    http: urllib3.PoolManager
    commands: dict[str, list[str]]
    env: dict[str, str]
    nodenames: dict[str, str]

    def log_tail(self, name: str, lines: int = 30) -> str:
        text = self.logs[name].read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def log_marks(self) -> dict[str, int]:
        """Where each log ends now: ``logs_text(…, since=marks)`` reads what came after."""
        return {name: path.stat().st_size for name, path in self.logs.items()}

    def logs_text(self, prefix: str, since: Mapping[str, int] | None = None) -> str:
        """The logs of the processes named ``prefix…``, from the ``since`` marks if given
        (the tier's logs hold every earlier test's lines too)."""
        texts = []
        for name, path in self.logs.items():
            if name.startswith(prefix):
                with path.open("rb") as log:
                    log.seek((since or {}).get(name, 0))
                    texts.append(log.read().decode(errors="replace"))
        return "\n".join(texts)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")

    def pool_children(self, worker: str) -> list[int]:
        """The prefork pool processes of Celery worker ``worker`` (they run the tasks)."""
        pid = self.processes[worker].pid
        path = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(child) for child in path.read_text().split()]

    def worker_named(self, node: str) -> str:
        """The name (``worker1``…) of the Celery worker whose node name is ``node``."""
        [name] = [name for name, nodename in self.nodenames.items() if nodename == node]
        return name

    def kill_whole(self, worker: str) -> None:
        """SIGKILL Celery worker ``worker`` whole: its main process and its pool processes at
        once (its process group), so nothing of it is left to give its task back."""
        process = self.processes[worker]
        pool = self.pool_children(worker)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        wait_until(lambda: all(map(_exited, pool)), what=f"{worker}'s pool processes", timeout=10)

    def start(self, worker: str) -> None:
        """Start Celery worker ``worker`` again (its log continues); wait until it answers."""
        self.processes[worker] = _spawn(
            self.commands[worker], self.env, self.logs[worker], append=True
        )
        self.wait_ready(worker)

    def wait_ready(self, worker: str) -> None:
        def answers() -> bool:
            self.check_alive()
            return _pinged(self.nodenames[worker])

        wait_until(answers, what=f"Celery {worker}", timeout=START_TIMEOUT)

    def idle(self) -> bool:
        """No task waits in the tier's queue and no worker runs or holds one, beat's sweeps
        aside. A connection of its own: the pooled ones may predate a broker restart."""
        with celery_app.connection_for_write() as conn:
            return _queued(conn, self.queue) == 0 and not self._tasks_in_hand(conn)

    def _tasks_in_hand(self, conn: Any) -> list[str]:
        inspect = celery_app.control.inspect(
            destination=list(self.nodenames.values()), timeout=2, connection=conn
        )
        views = (inspect.active() or {}, inspect.reserved() or {})
        return [
            task["name"]
            for view in views
            for tasks in view.values()
            for task in tasks
            if task["name"] != SWEEP
        ]

    def settle(self) -> None:
        """Wait until the workers have done every task a test caused (the notice emails
        of its last steps, typically): the database is emptied after each test, and a
        task still writing to it then fails or deadlocks with the emptying."""
        wait_until(self.idle, what="the workers to finish the test's tasks")

    def start_exited_workers(self) -> None:
        for worker in self.nodenames:
            if self.processes[worker].poll() is not None:
                self.start(worker)

    @contextmanager
    def paused(self, name: str) -> Iterator[None]:
        """Process ``name`` stopped (SIGSTOP) for the block, then let go on (SIGCONT)."""
        pid = self.processes[name].pid
        os.killpg(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(pid, signal.SIGCONT)

    def request(
        self, method: str, path: str, body: Any = None, *, token: str = "", ip: str = ""
    ) -> tuple[int, Any]:
        """One API call: its status and JSON answer (``None`` for an empty body)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = token
        if ip:
            headers["X-Test-Client-IP"] = ip
        response = self.http.request(
            method,
            self.base_url + path,
            body=None if body is None else json.dumps(body).encode(),
            headers=headers,
            timeout=urllib3.Timeout(total=30),
            retries=False,
        )
        content_type = response.headers.get("Content-Type", "")
        assert response.status < 500, f"{method} {path}: {response.status} {response.data[:300]!r}"
        assert not response.data or content_type.startswith("application/json"), (
            f"{method} {path} answered {content_type}: {response.data[:200]!r}"
        )
        return response.status, (json.loads(response.data) if response.data else None)


def _check_services() -> None:
    if connection.vendor != "postgresql":
        pytest.fail("The scale tier needs PostgreSQL (make test-scale).", pytrace=False)
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.fail("The scale tier needs the Redis cache.", pytrace=False)
    try:
        cache.set("scale-probe", "1", 5)
    except Exception as exc:  # noqa: BLE001 - reported whatever it is
        pytest.fail(f"Redis cache unreachable: {exc}", pytrace=False)


def _queued(conn: Any, queue: str) -> int:
    """How many messages wait in ``queue`` at the broker."""
    try:
        declared = conn.default_channel.queue_declare(queue=queue, passive=True)
    except ChannelError:
        return 0  # Redis keeps no empty list: "no such queue" is an empty one
    return int(declared.message_count)


def _exited(pid: int) -> bool:
    """Process ``pid`` is gone, or is a zombie (it runs nothing; its parent was killed)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _spawn(
    command: list[str], env: dict[str, str], log: Path, *, append: bool = False
) -> subprocess.Popen[bytes]:
    with log.open("ab" if append else "wb") as out:
        return subprocess.Popen(  # noqa: S603 - fixed commands, our interpreter
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


@pytest.fixture(scope="session")
def stack(
    django_db_setup: None,
    django_db_blocker: Any,
    broker: RedisBroker,
    fake_twilio: FakeTwilio,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """Start everything on the test database; stop it all at the end of the session."""
    with django_db_blocker.unblock():
        _check_services()
        database_url = _database_url(connection.settings_dict)
    base = tmp_path_factory.mktemp("scale")
    queue = f"intelliauth-sms-scale-{uuid.uuid4().hex[:10]}"
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.scale.settings",
        "DATABASE_URL": database_url,
        "SCALE_TWILIO_URL": fake_twilio.url,
        "SCALE_QUEUE": queue,
        "INTELLIAUTH_SMS_FILE_PATH": "",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    python = sys.executable
    commands = {
        "gunicorn": [
            python, "-m", "gunicorn", "tests.scale.wsgi:application",
            "--workers", str(GUNICORN_WORKERS), "--bind", f"127.0.0.1:{port}",
            "--timeout", "60", "--log-level", "warning",
        ],
        "beat": [
            python, "-m", "celery", "-A", "tests.celery_app", "beat", "-l", "info",
            "-s", str(base / "beat-schedule"),
        ],
    }  # fmt: skip
    host = socket.gethostname()
    nodenames = {}
    for number in range(1, CELERY_WORKERS + 1):
        name = f"worker{number}"
        nodenames[name] = f"{queue}-{number}@{host}"
        commands[name] = [
            python, "-m", "celery", "-A", "tests.celery_app", "worker", "-l", "info",
            "--pool=prefork", "--concurrency=1", "-n", nodenames[name], "-Q", queue,
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
    logs = {name: base / f"{name}.log" for name in commands}
    processes = {name: _spawn(command, env, logs[name]) for name, command in commands.items()}
    http = urllib3.PoolManager(maxsize=64, block=True)
    running = Stack(
        f"http://127.0.0.1:{port}", queue, processes, logs, http, commands, env, nodenames
    )
    try:

        def web_answers() -> bool:
            running.check_alive()
            try:
                http.request("GET", running.base_url + "/api/mfa/sms/factors/", retries=False)
            except urllib3.exceptions.HTTPError:
                return False
            return True

        wait_until(web_answers, what="gunicorn", timeout=START_TIMEOUT)
        for name in nodenames:
            running.wait_ready(name)
        yield running
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        http.clear()


@pytest.fixture
def scale(stack: Stack, fake_twilio: FakeTwilio, transactional_db: None) -> Iterator[Stack]:
    """The running stack for one test, with an empty provider record."""
    stack.check_alive()
    fake_twilio.reset()
    yield stack
    fake_twilio.release_all()
    stack.settle()


@pytest.fixture
def scale_kills(scale: Stack) -> Iterator[Stack]:
    """``scale`` for a test that kills whole workers: a worker it left dead (a failed test)
    is started again after it, so the tests after it find the whole stack."""
    yield scale
    scale.start_exited_workers()


CODE = re.compile(r"\b(\d{6})\b")


def code_in(body: str) -> str:
    match = CODE.search(body)
    assert match, "no code in the SMS"
    return match.group(1)
