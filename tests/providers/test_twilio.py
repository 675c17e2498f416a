"""The Twilio backend against a fake Twilio on 127.0.0.1: the contract's wire format, and each
kind of answer classified as sent, transient or permanent."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from intelliauth_sms.backends import OutgoingSms, SmsBackendError, twilio
from tests.providers.conftest import FakeProvider, Reply

SMS = OutgoingSms(to="+14155550100", body="Your verification code is 123456.", message_id="m-1")
SID = "SM" + "a" * 32


def backend(url: str, **extra: Any) -> twilio.SmsBackend:
    config = {"ACCOUNT_SID": "AC123", "AUTH_TOKEN": "secret-token", "FROM": "+15005550006"}
    return twilio.SmsBackend(config={**config, "API_URL": url, **extra})


def failure(provider: FakeProvider, reply: Reply, **extra: Any) -> SmsBackendError:
    provider.answer(reply)
    with pytest.raises(SmsBackendError) as caught:
        backend(provider.url, **extra).send(SMS)
    error = caught.value
    # Neither the number nor the text ever reaches an error.
    assert "4155550100" not in error.describe() and "123456" not in error.describe()
    assert error.backend == "intelliauth_sms.backends.twilio.SmsBackend"
    return error


def test_a_send_posts_the_contracts_form_with_basic_auth_and_returns_the_sid(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.answer(Reply(201, {"sid": SID, "status": "queued"}))

    provider_id = backend(fake_provider.url, STATUS_CALLBACK="https://example.com/cb/").send(SMS)

    assert provider_id == SID
    (request,) = fake_provider.received
    assert request.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(b"AC123:secret-token").decode()
    )
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "To": "+14155550100",
        "Body": SMS.body,
        "From": "+15005550006",
        "StatusCallback": "https://example.com/cb/",
    }


def test_a_messaging_service_sid_replaces_from(fake_provider: FakeProvider) -> None:
    fake_provider.answer(Reply(201, {"sid": SID}))

    backend(fake_provider.url, FROM="", MESSAGING_SERVICE_SID="MG999").send(SMS)

    form = fake_provider.received[0].form
    assert form["MessagingServiceSid"] == "MG999"
    assert "From" not in form and "StatusCallback" not in form


def test_an_invalid_number_is_permanent_with_twilios_code(fake_provider: FakeProvider) -> None:
    error = failure(
        fake_provider,
        Reply(400, {"code": 21211, "message": "The 'To' number +14155550100 is not valid."}),
    )

    assert (error.transient, error.status, error.provider_code) == (False, 400, "21211")
    assert "invalid 'To' number" in str(error)


def test_an_authentication_failure_is_permanent(fake_provider: FakeProvider) -> None:
    error = failure(fake_provider, Reply(401, {"code": 20003, "message": "Authenticate"}))

    assert (error.transient, error.status, error.provider_code) == (False, 401, "20003")


def test_too_many_requests_is_transient(fake_provider: FakeProvider) -> None:
    error = failure(fake_provider, Reply(429, {"code": 20429}))

    assert (error.transient, error.status, error.provider_code) == (True, 429, "20429")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_transient(fake_provider: FakeProvider, status: int) -> None:
    error = failure(fake_provider, Reply(status, {}))

    assert (error.transient, error.status) == (True, status)


def test_a_provider_slower_than_timeout_is_a_transient_timeout(
    fake_provider: FakeProvider,
) -> None:
    error = failure(fake_provider, Reply(201, {"sid": SID}, delay=1.0), TIMEOUT=0.2)

    assert (error.transient, error.status, error.provider_code) == (True, None, "timeout")


def test_nothing_listening_is_a_transient_connection_error(closed_port_url: str) -> None:
    with pytest.raises(SmsBackendError) as caught:
        backend(closed_port_url).send(SMS)

    assert caught.value.transient and caught.value.provider_code == "connection_error"


def test_a_2xx_without_a_sid_is_not_taken_for_a_send(fake_provider: FakeProvider) -> None:
    error = failure(fake_provider, Reply(200, {"unexpected": True}))

    assert not error.transient and error.status == 200


def test_fail_silently_returns_no_id(fake_provider: FakeProvider) -> None:
    fake_provider.answer(Reply(400, {"code": 21211}))
    config = {"ACCOUNT_SID": "AC1", "AUTH_TOKEN": "t", "FROM": "+1", "API_URL": fake_provider.url}

    assert twilio.SmsBackend(config=config, fail_silently=True).send(SMS) == ""


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"AUTH_TOKEN": "t", "FROM": "+1"}, "INTELLIAUTH_SMS['TWILIO']['ACCOUNT_SID']"),
        ({"ACCOUNT_SID": "AC1", "FROM": "+1"}, "INTELLIAUTH_SMS['TWILIO']['AUTH_TOKEN']"),
        (
            {"ACCOUNT_SID": "AC1", "AUTH_TOKEN": "t"},
            "INTELLIAUTH_SMS['TWILIO']['FROM'] or ['MESSAGING_SERVICE_SID']",
        ),
    ],
)
def test_a_missing_setting_is_named_in_the_error(
    settings: Any, config: dict[str, str], named: str
) -> None:
    settings.INTELLIAUTH_SMS = {"SMS_BACKEND": "intelliauth_sms.backends.twilio.SmsBackend"}
    settings.INTELLIAUTH_SMS["TWILIO"] = config

    with pytest.raises(ImproperlyConfigured) as caught:
        twilio.SmsBackend()

    assert named in str(caught.value)
