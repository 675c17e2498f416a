"""Settings of the worker throughput benchmark: PostgreSQL, Redis as broker and cache, a
no-op backend.

``BENCH_DATABASE_URL`` (default ``…/intelliauth_sms_worker_bench``), ``BENCH_BROKER_URL``
(default ``redis://127.0.0.1:6379/14``) and ``BENCH_CACHE_URL`` (default
``redis://127.0.0.1:6379/15``) name the database, broker and cache; ``BENCH_QUEUE`` the
queue the benchmark's worker consumes.
"""

import os

import dj_database_url

from tests.settings import *  # noqa: F403

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/intelliauth_sms_worker_bench"
        )
    )
}
# A worker keeps its database connection between tasks, as the README's production settings
# do: Celery's Django fix-up otherwise closes it after every task (whatever CONN_MAX_AGE
# says), and each delivery would pay for a new PostgreSQL connection. It then closes it
# every 1 000 tasks; Django's CONN_MAX_AGE and health checks cover the rest.
CELERY_DB_REUSE_MAX = 1000
DATABASES["default"]["CONN_MAX_AGE"] = 600
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The shared cache a production site must have (check E003); a delivery does not read it, but
# the worker's process runs with it as a site's would.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/15"),
    }
}
CELERY_BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = False
# The README's production setting; ``BENCH_PREFETCH`` to measure another.
CELERY_WORKER_PREFETCH_MULTIPLIER = int(os.environ.get("BENCH_PREFETCH", "1"))
INTELLIAUTH_SMS = {
    "SMS_BACKEND": "benchmarks.celery_app.NoOpSmsBackend",
    "CELERY_QUEUE": os.environ.get("BENCH_QUEUE", "intelliauth-sms-bench"),
}
