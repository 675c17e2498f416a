"""The Celery app of the worker benchmark, with the two things it compares the app's
delivery task against: a task that does nothing (acknowledged early, Celery's default, and
late, as the delivery task is), and an SMS backend that sends nothing."""

from __future__ import annotations

import os

from celery import Celery

from intelliauth_sms.backends import BaseSmsBackend, OutgoingSms

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.worker_settings")

app = Celery("benchmarks")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["intelliauth_sms"])


@app.task(name="benchmarks.noop", ignore_result=True)
def noop(message_id: str, sealed_code: str) -> None:
    """The floor: a task with the delivery task's arguments that does nothing."""


@app.task(name="benchmarks.noop_acks_late", ignore_result=True, acks_late=True)
def noop_acks_late(message_id: str, sealed_code: str) -> None:
    """A no-op acknowledged after it ran, as the delivery task is: shows what late
    acknowledgement itself costs the worker (a reference, not the goal's floor)."""


class NoOpSmsBackend(BaseSmsBackend):
    """Accepts every SMS at once, as an instant provider would."""

    def send(self, sms: OutgoingSms) -> str:
        return f"noop-{sms.message_id}"


@app.task(name="benchmarks.hold", ignore_result=True)
def hold(key: str) -> None:
    """Keeps one pool process busy until the benchmark lets it go: the block's tasks are
    all published before the worker takes the first, so the publisher's speed is not
    measured. Counts itself in ``key:held`` once it runs, then waits for a token in ``key``."""
    import redis

    store = redis.Redis.from_url(app.conf.broker_url)
    store.incr(f"{key}:held")
    store.blpop([key], timeout=600)


@app.task(name="benchmarks.mark", ignore_result=True)
def mark(key: str) -> None:
    """Runs after the tasks published before it (one worker, one process, in order): the
    time it ran is when the batch was done."""
    import time

    import redis

    redis.Redis.from_url(app.conf.broker_url).set(key, repr(time.time()), ex=600)
