"""Settings of the scale tier's processes: gunicorn (4 workers), two Celery workers, Celery
beat, and the pytest process driving them, all on one PostgreSQL and one Redis.

Every URL comes from the environment (``tests/scale/conftest.py`` sets them): the test
database, the Redis cache, the tier's own Redis broker (a separate ``redis-server`` the tests
stop and start) and the fake Twilio API on 127.0.0.1.
"""

import os

from tests.settings_services import *  # noqa: F403
from tests.settings_services import INTELLIAUTH_SMS

# Tasks go through the broker to the workers, never inline.
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = False
# With ``acks_late`` tasks, a worker takes one task at a time: a killed worker loses (and
# the broker redelivers) only the task it was running.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
_QUEUE = os.environ.get("SCALE_QUEUE", "intelliauth-sms-scale")
# Beat publishes by task name, without the app's CELERY_QUEUE: route the app's tasks.
CELERY_TASK_ROUTES = {"intelliauth_sms.*": {"queue": _QUEUE}}
CELERY_BEAT_SCHEDULE = {
    "intelliauth-sms-sweep": {
        "task": "intelliauth_sms.sweep_queued",
        "schedule": 1.0,
        # Production keeps the default (120 s); the tier's queue is never that slow.
        "kwargs": {"after_seconds": 3},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tests.scale.site.SignedUserToken"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

INTELLIAUTH_SMS = {
    **INTELLIAUTH_SMS,
    "SMS_BACKEND": "intelliauth_sms.backends.twilio.SmsBackend",
    "TWILIO": {
        "ACCOUNT_SID": "AC" + "0" * 32,
        "AUTH_TOKEN": "scale-tier-auth-token",
        "FROM": "+15005550006",
        "API_URL": os.environ.get("SCALE_TWILIO_URL", "http://127.0.0.1:9"),
        "TIMEOUT": 10,
    },
    "CLIENT_IP_RESOLVER": "tests.scale.site.header_client_ip",
    "CELERY_QUEUE": _QUEUE,
    # The per-IP request flood guard is not what this tier measures.
    "REQUEST_RATE": None,
}

# Workers and beat outlive a broker restart (the tier stops and starts it): they retry the
# connection for as long as it takes. Requests never wait for it (``services.dispatch``).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

# The workers report each delivery task to the fake Twilio server before it claims its
# message, where a test can hold it (tests/scale/worker_hooks.py).
CELERY_IMPORTS = ["tests.scale.worker_hooks"]

# How a Redis broker gets back the task of a worker killed whole (main process and pool:
# nothing is left to reject it): a live worker's periodic scan (kombu's Redis transport,
# ``QoS.restore_visible``) puts back in the queue every message unacknowledged for longer
# than ``visibility_timeout``. The defaults (an hour; a scan every 10 s × 10 in kombu 5.7)
# would make such a test wait an hour, so the tier shortens them:
# * ``visibility_timeout`` 5 s. It must stay above the longest time a *live* worker here
#   keeps a message unacknowledged, or a task still running would be handed to the other
#   worker too: every send takes milliseconds against the fake provider, a held send or a
#   held claim (the worker-killing tests) lasts only until the test kills its worker or its
#   pool process, at once, and a pool process killed mid-send has its task given back at
#   once (``reject_on_worker_lost``). Production's rule (above the longest task plus the
#   longest retry delay, README) does not bind here: the fake provider never fails, so no
#   delivery is retried, and no task carries a countdown (which Redis keeps unacknowledged
#   until it is due). Each whole-worker kill waits about this long, so no longer either.
# * a scan every second (interval 1 s, every call scanning);
# * the scan's lock expiring after 2 s, not 5 minutes: a worker killed during its scan
#   would otherwise leave the lock held, and no worker could restore anything meanwhile.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 5,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    "unacked_mutex_expire": 2,
}
