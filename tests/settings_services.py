"""Services tier: real PostgreSQL, Redis and a Celery broker, all required.

Missing URLs raise instead of falling back, so the tier fails rather than quietly
testing SQLite. `make test-services` supplies local defaults.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from example_project.dburl import parse_database_url
from tests.settings import *  # noqa: F403


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ImproperlyConfigured(f"tests.settings_services needs the {name} environment variable")
    return value


REDIS_URL = _required("REDIS_URL")

DATABASES = {"default": parse_database_url(_required("DATABASE_URL"))}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}

CELERY_BROKER_URL = _required("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False

# A worker writes messages here and the tests read them back.
INTELLIAUTH_SMS = {
    "SMS_BACKEND": "intelliauth_sms.backends.filebased.SmsBackend",
    "SMS_FILE_PATH": os.environ.get("INTELLIAUTH_SMS_FILE_PATH", "/tmp/intelliauth-sms-outbox"),  # noqa: S108
}
