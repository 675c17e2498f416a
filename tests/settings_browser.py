"""Browser tier (`make test-browser`): the unit settings plus the demo site's pages.

SQLite in memory, local-memory cache, eager Celery and the locmem SMS backend, as in
``tests.settings``: the live server runs in the test process, so a test reads each SMS
from ``intelliauth_sms.backends.locmem.outbox``.
"""

from tests.demo.site import with_demo_app
from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = with_demo_app(INSTALLED_APPS)
ROOT_URLCONF = "example_project.urls"
LOGIN_URL = "intelliauth_sms_signin:login"
LOGIN_REDIRECT_URL = "demo:account"
