"""Services tier: the whole suite on real PostgreSQL and Redis, with a real Celery broker.

Missing URLs raise instead of falling back, so the tier fails rather than quietly testing
SQLite. `make test-services` supplies local defaults.

The ordinary tests run here unchanged: tasks stay eager and SMS go to the locmem outbox.
The tests in ``tests/concurrency`` that need the broker start a Celery worker as a separate
process with ``INTELLIAUTH_SMS_FILE_PATH`` set; that switch gives the worker the filebased
backend (so the test can read what it sent) and real, non-eager task execution.
"""

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from tests.settings import *  # noqa: F403


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ImproperlyConfigured(f"tests.settings_services needs the {name} environment variable")
    return value


REDIS_URL = _required("REDIS_URL")

DATABASES = {"default": dj_database_url.parse(_required("DATABASE_URL"))}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}

CELERY_BROKER_URL = _required("CELERY_BROKER_URL")
# A broker that does not answer must fail the run quickly, not retry for minutes.
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_BROKER_CONNECTION_MAX_RETRIES = 3
# Every task of the app ignores its result, so there is no result backend: nothing of the
# tier's tasks lands in the cache's Redis database, which the tests flush.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

_WORKER_OUTBOX = os.environ.get("INTELLIAUTH_SMS_FILE_PATH")
if _WORKER_OUTBOX:
    # The Celery worker started by tests/concurrency/conftest.py: consume from the broker and
    # write one file per SMS where the test process reads them.
    CELERY_TASK_ALWAYS_EAGER = False
    INTELLIAUTH_SMS = {
        "SMS_BACKEND": "intelliauth_sms.backends.filebased.SmsBackend",
        "SMS_FILE_PATH": _WORKER_OUTBOX,
    }
