"""System checks for the provider backends: a missing setting is named (E007), a list of
backends is checked path by path (E002), and W001 stays quiet once a provider is configured."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks

from tests.core.test_checks import REDIS, VALID_KEY

pytestmark = pytest.mark.django_db

TWILIO = "intelliauth_sms.backends.twilio.SmsBackend"
SNS = "intelliauth_sms.backends.sns.SmsBackend"
VONAGE = "intelliauth_sms.backends.vonage.SmsBackend"
LOCMEM = "intelliauth_sms.backends.locmem.SmsBackend"
TWILIO_SETTINGS = {"ACCOUNT_SID": "AC1", "AUTH_TOKEN": "t", "MESSAGING_SERVICE_SID": "MG1"}


def app_messages() -> list[Any]:
    return [m for m in run_checks() if (m.id or "").startswith("intelliauth_sms.")]


@pytest.fixture
def production(settings: Any) -> Any:
    settings.DEBUG = False
    settings.CACHES = REDIS
    settings.FIELD_ENCRYPTION_KEY = VALID_KEY
    return settings


def test_a_configured_twilio_backend_passes_every_check(production: Any) -> None:
    production.INTELLIAUTH_SMS = {"SMS_BACKEND": TWILIO, "TWILIO": TWILIO_SETTINGS}

    assert app_messages() == []


@pytest.mark.parametrize(
    ("path", "config", "named"),
    [
        (TWILIO, {"TWILIO": {"ACCOUNT_SID": "AC1", "FROM": "+1"}}, "['TWILIO']['AUTH_TOKEN']"),
        (
            TWILIO,
            {"TWILIO": {"ACCOUNT_SID": "AC1", "AUTH_TOKEN": "t"}},
            "['TWILIO']['FROM'] or ['MESSAGING_SERVICE_SID']",
        ),
        (SNS, {}, "['SNS']['REGION']"),
        (VONAGE, {"VONAGE": {"API_KEY": "k", "FROM": "Acme"}}, "['VONAGE']['API_SECRET']"),
    ],
)
def test_e007_names_each_missing_provider_setting(
    production: Any, path: str, config: dict[str, Any], named: str
) -> None:
    production.INTELLIAUTH_SMS = {"SMS_BACKEND": path, **config}

    (error,) = app_messages()

    assert error.id == "intelliauth_sms.E007"
    assert f"INTELLIAUTH_SMS{named}" in error.msg and path in error.msg and error.hint


def test_every_backend_of_a_list_is_checked(production: Any) -> None:
    production.INTELLIAUTH_SMS = {
        "SMS_BACKEND": [TWILIO, "intelliauth_sms.backends.nowhere.SmsBackend", SNS],
        "TWILIO": TWILIO_SETTINGS,
    }

    assert sorted(m.id for m in app_messages()) == [
        "intelliauth_sms.E002",
        "intelliauth_sms.E007",
    ]


def test_w001_is_quiet_when_a_list_holds_a_provider(production: Any) -> None:
    production.INTELLIAUTH_SMS = {"SMS_BACKEND": [TWILIO, LOCMEM], "TWILIO": TWILIO_SETTINGS}

    assert app_messages() == []


def test_w001_still_warns_for_a_list_of_development_backends(production: Any) -> None:
    production.INTELLIAUTH_SMS = {"SMS_BACKEND": [LOCMEM, LOCMEM]}

    assert [m.id for m in app_messages()] == ["intelliauth_sms.W001"]
