"""System checks: ``intelliauth_sms.E001`` … and ``W001`` …, each with a message and a hint."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.utils.module_loading import import_string

from intelliauth_sms.backends.base import ProviderSmsBackend
from intelliauth_sms.conf import app_settings

# Caches that live inside one process: a limit kept there is per-process, not per-site.
PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
DEVELOPMENT_BACKENDS = (
    "intelliauth_sms.backends.console.SmsBackend",
    "intelliauth_sms.backends.locmem.SmsBackend",
    "intelliauth_sms.backends.filebased.SmsBackend",
)


@register(Tags.security)
def check_encryption_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E001: FIELD_ENCRYPTION_KEY must be one or more valid Fernet keys."""
    from cryptography.fernet import Fernet

    keys = getattr(settings, "FIELD_ENCRYPTION_KEY", None)
    hint = (
        "Set FIELD_ENCRYPTION_KEY to the output of "
        "`python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'`, kept outside the database."
    )
    if not keys:
        return [Error("FIELD_ENCRYPTION_KEY is not set.", hint=hint, id="intelliauth_sms.E001")]
    for key in keys if isinstance(keys, list | tuple) else [keys]:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return [
                Error(
                    "FIELD_ENCRYPTION_KEY is not a valid Fernet key.",
                    hint=hint,
                    id="intelliauth_sms.E001",
                )
            ]
    return []


@register()
def check_sms_backend(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E002: each SMS backend path must import; E007: a provider backend's required
    settings must be set; W001: only development backends in production."""
    paths = app_settings.SMS_BACKENDS
    problems: list[CheckMessage] = []
    for path in paths:
        try:
            backend_class = import_string(path)
        except ImportError:
            problems.append(
                Error(
                    f"INTELLIAUTH_SMS['SMS_BACKEND'] = {path!r} cannot be imported.",
                    hint="Use a dotted path such as "
                    "'intelliauth_sms.backends.console.SmsBackend'; a provider backend needs "
                    'its extra: pip install "intelliauth-sms[twilio]" (or [aws], [vonage]).',
                    id="intelliauth_sms.E002",
                )
            )
            continue
        if isinstance(backend_class, type) and issubclass(backend_class, ProviderSmsBackend):
            config = app_settings.provider_settings(backend_class.settings_key)
            problems.extend(
                Error(
                    f"{missing} is not set, and {path} needs it.",
                    hint=f"Add it to INTELLIAUTH_SMS[{backend_class.settings_key!r}] "
                    "(README, 'Providers').",
                    id="intelliauth_sms.E007",
                )
                for missing in backend_class.missing_settings(config)
            )
    if problems:
        return problems
    if not settings.DEBUG and all(path in DEVELOPMENT_BACKENDS for path in paths):
        return [
            Warning(
                f"INTELLIAUTH_SMS['SMS_BACKEND'] is the development backend {paths[0]!r} "
                "while DEBUG is off: no SMS reaches users.",
                hint="Configure a provider backend for production: "
                "intelliauth_sms.backends.twilio, .sns or .vonage (README, 'Providers').",
                id="intelliauth_sms.W001",
            )
        ]
    return []


@register(Tags.caches)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E003: the request flood guard needs a cache shared by every web process."""
    if settings.DEBUG or app_settings.REQUEST_RATE is None:
        return []
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if backend in PROCESS_LOCAL_CACHES:
        return [
            Error(
                f"The cache {alias!r} ({backend}) is not shared between processes, so the "
                "per-IP request guard would count each process separately.",
                hint="Use Redis or Memcached for that cache (RATELIMIT_USE_CACHE picks the alias),"
                " or set INTELLIAUTH_SMS['REQUEST_RATE'] = None.",
                id="intelliauth_sms.E003",
            )
        ]
    return []


@register()
def check_tenant_resolver(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E004: the tenant resolver path must import."""
    for key in ("TENANT_RESOLVER", "CLIENT_IP_RESOLVER"):
        path = getattr(app_settings, key)
        try:
            import_string(path)
        except ImportError:
            return [
                Error(
                    f"INTELLIAUTH_SMS[{key!r}] = {path!r} cannot be imported.",
                    hint="Give the dotted path of a callable.",
                    id="intelliauth_sms.E004",
                )
            ]
    return []


REDIS_CACHE_BACKEND = "django.core.cache.backends.redis.RedisCache"


@register(Tags.caches)
def check_redis_client(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E005: a cache on Django's Redis backend needs the ``redis`` package installed.

    Without it the first API request fails inside the cache, not at start-up.
    """
    uses_redis = [
        alias
        for alias, config in settings.CACHES.items()
        if config.get("BACKEND") == REDIS_CACHE_BACKEND
    ]
    if not uses_redis or importlib.util.find_spec("redis") is not None:
        return []
    return [
        Error(
            f"The cache {uses_redis[0]!r} uses Django's RedisCache, but the 'redis' package "
            "is not installed.",
            hint='Install the redis extra: pip install "intelliauth-sms[redis]" (or redis).',
            id="intelliauth_sms.E005",
        )
    ]


# A host name as WICG "SMS one-time codes" takes it: labels of letters, digits and hyphens
# (no scheme, port, path or trailing dot).
_WEBOTP_DOMAIN = re.compile(
    r"(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)


@register()
def check_webotp_domain(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E006: ``WEBOTP_DOMAIN`` must be a bare host name (``example.com``)."""
    domain = app_settings.WEBOTP_DOMAIN
    if domain is None or _WEBOTP_DOMAIN.fullmatch(domain):
        return []
    return [
        Error(
            f"INTELLIAUTH_SMS['WEBOTP_DOMAIN'] = {domain!r} is not a host name.",
            hint="Give the site's host only, such as 'example.com' (no scheme, port or path).",
            id="intelliauth_sms.E006",
        )
    ]
