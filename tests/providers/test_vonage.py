"""The Vonage backend against a fake Vonage on 127.0.0.1. Vonage answers 200 with a status per
message part; its codes, not the HTTP status, say whether a failure is transient."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from intelliauth_sms.backends import OutgoingSms, SmsBackendError, vonage
from tests.providers.conftest import FakeProvider, Reply

SMS = OutgoingSms(to="+447400123456", body="Your verification code is 123456.", message_id="m-1")


def backend(url: str, **extra: Any) -> vonage.SmsBackend:
    config = {"API_KEY": "key", "API_SECRET": "secret", "FROM": "Acme", "API_URL": url}
    return vonage.SmsBackend(config={**config, **extra})


def answer(status: str, **part: str) -> Reply:
    return Reply(200, {"message-count": "1", "messages": [{"status": status, **part}]})


def failure(provider: FakeProvider, reply: Reply, **extra: Any) -> SmsBackendError:
    provider.answer(reply)
    with pytest.raises(SmsBackendError) as caught:
        backend(provider.url, **extra).send(SMS)
    assert "7400123456" not in caught.value.describe()
    return caught.value


def test_a_send_posts_the_sms_api_form_and_returns_the_message_id(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.answer(answer("0", **{"message-id": "0A0000001234", "to": "447400123456"}))

    assert backend(fake_provider.url).send(SMS) == "0A0000001234"

    (request,) = fake_provider.received
    assert request.path == "/sms/json"
    assert request.form == {
        "api_key": "key",
        "api_secret": "secret",
        "from": "Acme",
        "to": "447400123456",
        "text": SMS.body,
        "client-ref": "m-1",
    }


def test_a_text_with_accents_is_sent_as_unicode(fake_provider: FakeProvider) -> None:
    fake_provider.answer(answer("0", **{"message-id": "x"}))

    backend(fake_provider.url).send(OutgoingSms(to=SMS.to, body="Votre code expire à 12h."))

    assert fake_provider.received[0].form["type"] == "unicode"


@pytest.mark.parametrize(
    ("code", "transient"),
    [("3", False), ("6", False), ("4", False), ("29", False), ("1", True), ("5", True)],
)
def test_vonage_status_codes_are_classified(
    fake_provider: FakeProvider, code: str, transient: bool
) -> None:
    error = failure(fake_provider, answer(code, **{"error-text": "Invalid to 447400123456"}))

    assert (error.provider_code, error.transient, error.status) == (code, transient, 200)


def test_an_http_401_is_a_permanent_authentication_failure(fake_provider: FakeProvider) -> None:
    error = failure(fake_provider, Reply(401, {"title": "Unauthorized"}))

    assert not error.transient and error.status == 401


def test_an_http_429_is_transient(fake_provider: FakeProvider) -> None:
    assert failure(fake_provider, Reply(429, {})).transient


def test_a_server_error_is_transient(fake_provider: FakeProvider) -> None:
    assert failure(fake_provider, Reply(503, {})).transient


def test_a_provider_slower_than_timeout_is_a_transient_timeout(
    fake_provider: FakeProvider,
) -> None:
    slow = answer("0", **{"message-id": "x"})
    slow.delay = 1.0

    error = failure(fake_provider, slow, TIMEOUT=0.2)

    assert (error.transient, error.provider_code) == (True, "timeout")


def test_the_default_api_url_is_vonages_rest_host() -> None:
    config = {"API_KEY": "k", "API_SECRET": "s", "FROM": "Acme"}

    request = vonage.SmsBackend(config=config).build_request(SMS)

    assert request.url == "https://rest.nexmo.com/sms/json"


def test_a_missing_setting_is_named_in_the_error() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"\['VONAGE'\]\['API_SECRET'\]"):
        vonage.SmsBackend(config={"API_KEY": "k", "FROM": "Acme"})
