"""Settings of the request benchmark (``benchmarks/request_cost.py``).

The unit-test settings, with ``BENCH_DATABASE`` choosing SQLite (in memory) or
PostgreSQL (``BENCH_DATABASE_URL``), the benchmark's URLs (the app's API and the floor
view), and, with ``BENCH_BROKER_URL`` set, tasks published to a real broker instead of run.
"""

import os

import dj_database_url

from tests.settings import *  # noqa: F403
from tests.settings import INTELLIAUTH_SMS

ROOT_URLCONF = "benchmarks.request_urls"

if os.environ.get("BENCH_DATABASE") == "postgres":
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ.get(
                "BENCH_DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/intelliauth_sms_request_bench",
            )
        )
    }
else:
    # In memory, as the unit tests run: a file would make every commit an fsync of it,
    # which the floor (a read) never pays; PostgreSQL shows what commits cost.
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

if os.environ.get("BENCH_BROKER_URL"):
    CELERY_BROKER_URL = os.environ["BENCH_BROKER_URL"]
    CELERY_TASK_ALWAYS_EAGER = False
    CELERY_TASK_EAGER_PROPAGATES = False
    INTELLIAUTH_SMS = {**INTELLIAUTH_SMS, "CELERY_QUEUE": os.environ["BENCH_QUEUE"]}

# Every call comes from its own address, so no per-IP limit is hit; the request flood guard
# (a cache counter per address) stays on, as on a site.
