"""Fast test settings: in-memory SQLite, local-memory cache, Celery tasks run inline."""

import importlib.util

SECRET_KEY = "tests-secret-key-not-for-production"
FIELD_ENCRYPTION_KEY = "p8VTFzTy8kimuyotdNd8WW-aLc4Yi_M_RXajNaW0Dhc="
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

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
    "intelliauth_sms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed, tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/admin/login/"

REST_FRAMEWORK: dict[str, object] = {
    # No HTTP Basic: a password-only credential. tests/api/test_mfa_bound_access.py turns
    # it on where it proves that Basic never passes the MFA-bound rule.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# The API's OpenAPI schema (the `openapi` extra), set up as example_project.settings does
# it, so tests/openapi and tests/api/test_openapi_schema.py serve example_project.urls'
# /api/schema/ and /api/docs/.
if importlib.util.find_spec("drf_spectacular") is not None:
    INSTALLED_APPS += ["drf_spectacular", "drf_spectacular_sidecar"]
    REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"
    SPECTACULAR_SETTINGS = {
        "SERVE_INCLUDE_SCHEMA": False,
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    }

INTELLIAUTH_SMS = {
    "SMS_BACKEND": "intelliauth_sms.backends.locmem.SmsBackend",
    # The token-site pattern (tests/mfa.py): the ``api`` fixture's token carries the time
    # its holder passed the SMS step; without a token, the session's MFA time counts.
    "MFA_VERIFIED_AT": "tests.mfa.verified_at",
}
