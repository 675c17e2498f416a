"""System checks: each misconfiguration is reported under its own id."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Error, Warning, run_checks
from django.test import override_settings

from intelliauth_sms import checks

# Django 6.1's model checks ask the database whether it supports JSONField.
pytestmark = pytest.mark.django_db

VALID_KEY = "p8VTFzTy8kimuyotdNd8WW-aLc4Yi_M_RXajNaW0Dhc="
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PROVIDER = "intelliauth_sms.backends.base.BaseSmsBackend"  # importable, not a dev backend


def app_check_ids() -> list[str]:
    return sorted(m.id for m in run_checks() if (m.id or "").startswith("intelliauth_sms."))


@pytest.fixture
def production(settings: Any) -> Any:
    """A configuration that passes every check, to break one thing at a time."""
    settings.DEBUG = False
    settings.CACHES = REDIS
    settings.FIELD_ENCRYPTION_KEY = VALID_KEY
    settings.INTELLIAUTH_SMS = {"SMS_BACKEND": PROVIDER}
    return settings


def test_a_sound_production_configuration_passes_every_check(production: Any) -> None:
    assert app_check_ids() == []


# --- E001 -----------------------------------------------------------------------------------


def test_e001_reports_a_missing_encryption_key(production: Any) -> None:
    del production.FIELD_ENCRYPTION_KEY

    assert app_check_ids() == ["intelliauth_sms.E001"]
    (error,) = checks.check_encryption_key()
    assert isinstance(error, Error) and "not set" in error.msg and error.hint


@pytest.mark.parametrize("key", ["", None])
def test_e001_reports_an_empty_encryption_key(production: Any, key: Any) -> None:
    production.FIELD_ENCRYPTION_KEY = key
    assert [m.id for m in checks.check_encryption_key()] == ["intelliauth_sms.E001"]


@pytest.mark.parametrize(
    "key",
    ["not-a-fernet-key", VALID_KEY[:-4], [VALID_KEY, "broken"], 12345],
)
def test_e001_reports_an_invalid_encryption_key(production: Any, key: Any) -> None:
    production.FIELD_ENCRYPTION_KEY = key

    assert app_check_ids() == ["intelliauth_sms.E001"]
    (error,) = checks.check_encryption_key()
    assert "not a valid Fernet key" in error.msg


def test_e001_accepts_a_list_of_valid_keys_for_rotation(production: Any) -> None:
    from cryptography.fernet import Fernet

    production.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), VALID_KEY]
    assert checks.check_encryption_key() == []


# --- E002 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "intelliauth_sms.backends.nonexistent.SmsBackend",
        "intelliauth_sms.backends.console.NoSuchClass",
        "nodots",
    ],
)
def test_e002_reports_an_sms_backend_path_that_does_not_import(production: Any, path: str) -> None:
    production.INTELLIAUTH_SMS = {"SMS_BACKEND": path}

    assert app_check_ids() == ["intelliauth_sms.E002"]
    (error,) = checks.check_sms_backend()
    assert isinstance(error, Error) and path in error.msg


# --- E003 -----------------------------------------------------------------------------------


def test_e003_reports_a_process_local_cache_while_debug_is_off(production: Any) -> None:
    production.CACHES = LOCMEM

    assert app_check_ids() == ["intelliauth_sms.E003"]


def test_e003_reports_a_dummy_cache_too(production: Any) -> None:
    production.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert [m.id for m in checks.check_shared_cache()] == ["intelliauth_sms.E003"]


def test_e003_is_silent_while_debug_is_on(production: Any) -> None:
    production.CACHES = LOCMEM
    production.DEBUG = True

    assert checks.check_shared_cache() == []
    assert "intelliauth_sms.E003" not in app_check_ids()


def test_e003_is_silent_when_the_request_guard_is_off(production: Any) -> None:
    production.CACHES = LOCMEM
    production.INTELLIAUTH_SMS = {"SMS_BACKEND": PROVIDER, "REQUEST_RATE": None}

    assert checks.check_shared_cache() == []
    assert app_check_ids() == []


def test_e003_looks_at_the_cache_the_guard_uses(production: Any) -> None:
    production.CACHES = {**REDIS, "local": LOCMEM["default"]}
    production.RATELIMIT_USE_CACHE = "local"
    assert [m.id for m in checks.check_shared_cache()] == ["intelliauth_sms.E003"]

    production.CACHES = {**LOCMEM, "shared": REDIS["default"]}
    production.RATELIMIT_USE_CACHE = "shared"
    assert checks.check_shared_cache() == []


# --- E004 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["TENANT_RESOLVER", "CLIENT_IP_RESOLVER"])
def test_e004_reports_a_resolver_path_that_does_not_import(production: Any, key: str) -> None:
    production.INTELLIAUTH_SMS = {"SMS_BACKEND": PROVIDER, key: "myproject.tenants.nope"}

    assert app_check_ids() == ["intelliauth_sms.E004"]
    (error,) = checks.check_tenant_resolver()
    assert key in error.msg


# --- W001 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", checks.DEVELOPMENT_BACKENDS)
def test_w001_warns_of_a_development_backend_while_debug_is_off(
    production: Any, backend: str
) -> None:
    production.INTELLIAUTH_SMS = {"SMS_BACKEND": backend}

    assert app_check_ids() == ["intelliauth_sms.W001"]
    (warning,) = checks.check_sms_backend()
    assert isinstance(warning, Warning)


def test_w001_is_silent_while_debug_is_on(production: Any) -> None:
    production.DEBUG = True
    production.INTELLIAUTH_SMS = {"SMS_BACKEND": "intelliauth_sms.backends.console.SmsBackend"}
    assert app_check_ids() == []


def test_w001_warns_about_the_console_default_when_nothing_is_configured(
    production: Any,
) -> None:
    del production.INTELLIAUTH_SMS
    assert app_check_ids() == ["intelliauth_sms.W001"]


def test_checks_follow_override_settings_without_a_restart() -> None:
    with override_settings(DEBUG=True, CACHES=LOCMEM):
        assert app_check_ids() == []
    with override_settings(DEBUG=False, CACHES=LOCMEM):
        assert app_check_ids() == ["intelliauth_sms.E003", "intelliauth_sms.W001"]


def test_every_check_message_has_a_hint(production: Any) -> None:
    production.FIELD_ENCRYPTION_KEY = "bad"
    production.CACHES = LOCMEM
    production.INTELLIAUTH_SMS = {"SMS_BACKEND": "nope.Nope", "TENANT_RESOLVER": "nope.nope"}

    messages = [m for m in run_checks() if (m.id or "").startswith("intelliauth_sms.")]
    assert sorted(m.id for m in messages) == [
        "intelliauth_sms.E001",
        "intelliauth_sms.E002",
        "intelliauth_sms.E003",
        "intelliauth_sms.E004",
    ]
    assert all(m.hint for m in messages)


def test_e005_a_redis_cache_without_the_redis_package(
    production: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = checks.importlib.util.find_spec

    def without_redis(name: str, *args: Any) -> Any:
        return None if name == "redis" else real_find_spec(name, *args)

    production.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
        }
    }
    assert "intelliauth_sms.E005" not in app_check_ids()
    monkeypatch.setattr(checks.importlib.util, "find_spec", without_redis)
    [error] = [m for m in run_checks() if m.id == "intelliauth_sms.E005"]
    assert "'redis' package is not installed" in error.msg
    assert "intelliauth-sms[redis]" in (error.hint or "")
