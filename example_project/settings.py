"""Settings for the example site: how a customer would install intelliauth_sms.

Runs with no environment at all (SQLite, in-process cache, Celery tasks run inline).
Set DATABASE_URL, REDIS_URL and CELERY_BROKER_URL to use real services.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# INSECURE development defaults. Anything deployed sets both variables.
INSECURE_SECRET_KEY = "django-insecure-example-project-dev-only"  # noqa: S105 - dev default
INSECURE_FIELD_ENCRYPTION_KEY = "MMAHaHDHTrPQ73ipH8BV2G2vHvxUXc2vdbpVWxWqECg="

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", INSECURE_SECRET_KEY)
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", INSECURE_FIELD_ENCRYPTION_KEY)
DEBUG = os.environ.get("DJANGO_DEBUG", "true").lower() in ("1", "true", "yes", "on")

if not DEBUG and (
    SECRET_KEY == INSECURE_SECRET_KEY or FIELD_ENCRYPTION_KEY == INSECURE_FIELD_ENCRYPTION_KEY
):
    raise ImproperlyConfigured(
        "DJANGO_DEBUG is off: set DJANGO_SECRET_KEY and FIELD_ENCRYPTION_KEY "
        "instead of using the development defaults."
    )

ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "phonenumber_field",
    "encrypted_model_fields",
    # Before intelliauth_sms: its templates override the drop-in sign-in's
    # (intelliauth_sms/signin/base.html and login.html), the usual Django way.
    "example_project.demo",
    "intelliauth_sms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The API and the pages answer in the request's language; the SMS follows it.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
    }

# The app's rate limits need a cache shared by every web process: Redis in production.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Without a broker, tasks run inline in the request so the demo needs no worker.
if os.environ.get("CELERY_BROKER_URL"):
    CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]
else:
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The languages intelliauth_sms ships (intelliauth_sms/locale).
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "intelliauth_sms_signin:login"  # the app's drop-in sign-in, with its SMS step
LOGIN_REDIRECT_URL = "demo:account"
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Session only: HTTP Basic would be a password-only way past the SMS step.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}

# The API's OpenAPI schema at /api/schema/ and Swagger UI at /api/docs/, when the `openapi`
# extra (drf-spectacular) is installed; the Swagger UI files come from
# drf-spectacular-sidecar when it is installed too, else from a CDN.
if importlib.util.find_spec("drf_spectacular") is not None:
    INSTALLED_APPS.append("drf_spectacular")
    REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"
    SPECTACULAR_SETTINGS = {
        "TITLE": "intelliauth-sms example site",
        "DESCRIPTION": (
            "The SMS second-factor API of intelliauth-sms: enrolment, factors, sign-in "
            "flows, recovery and the SMS providers' delivery webhooks."
        ),
        "VERSION": "1",
        "SERVE_INCLUDE_SCHEMA": False,
    }
    if importlib.util.find_spec("drf_spectacular_sidecar") is not None:
        INSTALLED_APPS.append("drf_spectacular_sidecar")
        SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] = "SIDECAR"
        SPECTACULAR_SETTINGS["SWAGGER_UI_FAVICON_HREF"] = "SIDECAR"

# Codes are printed to the runserver console.
INTELLIAUTH_SMS = {"SMS_BACKEND": "intelliauth_sms.backends.console.SmsBackend"}
