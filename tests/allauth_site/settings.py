"""The ``allauth`` tier's settings: django-allauth signing up and in by phone only.

``make test-allauth`` (needs ``pip install -e '.[test,allauth]'``).
"""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "allauth", "allauth.account", "tests.allauth_site"]
MIDDLEWARE = [*MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"]
ROOT_URLCONF = "tests.allauth_site.urls"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# allauth keeps its pending code in the session: here the cache, not a database table.
SESSION_ENGINE = "django.contrib.sessions.backends.cache"

ACCOUNT_ADAPTER = "tests.allauth_site.adapter.SiteAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*"]
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_RATE_LIMITS = False  # the app's gate is what these tests exercise
