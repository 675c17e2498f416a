"""The AWS SNS backend: a publish to a phone number against moto, errors AWS documents through
botocore's Stubber, and the transport failures against 127.0.0.1. Never AWS itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from django.core.exceptions import ImproperlyConfigured
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from intelliauth_sms.backends import OutgoingSms, SmsBackendError, sns
from tests.providers.conftest import FakeProvider, Reply

SMS = OutgoingSms(to="+447400123456", body="Your verification code is 123456.", message_id="m-1")
REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials, moto in place of AWS, and fresh clients for each test."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    sns.client.cache_clear()
    with mock_aws():
        yield
    sns.client.cache_clear()


def backend(**extra: Any) -> sns.SmsBackend:
    return sns.SmsBackend(config={"REGION": REGION, **extra})


def sent_by_moto() -> dict[str, tuple[str, str]]:
    return dict(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages)


def test_a_publish_to_the_phone_number_returns_the_message_id() -> None:
    message_id = backend(SENDER_ID="Acme").send(SMS)

    assert sent_by_moto() == {message_id: (SMS.to, SMS.body)}


def test_the_request_carries_the_sms_type_and_sender_id() -> None:
    request = backend(SENDER_ID="Acme").build_request(SMS)

    assert request["MessageAttributes"] == {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Acme"},
    }
    assert "AWS.SNS.SMS.SenderID" not in backend().build_request(SMS)["MessageAttributes"]


def test_an_invalid_number_is_permanent_with_the_aws_code() -> None:
    with pytest.raises(SmsBackendError) as caught:
        backend().send(OutgoingSms(to="+44 7400 123456", body="x"))

    error = caught.value
    assert (error.transient, error.status, error.provider_code) == (False, 400, "InvalidParameter")
    assert error.backend == "intelliauth_sms.backends.sns.SmsBackend"
    assert not sent_by_moto()


@pytest.mark.parametrize(
    ("code", "status", "transient"),
    [
        ("AuthorizationError", 403, False),
        ("InvalidClientTokenId", 403, False),
        ("Throttling", 400, True),
        ("InternalError", 500, True),
        ("SomethingNew", 503, True),
    ],
)
def test_aws_errors_are_classified(code: str, status: int, transient: bool) -> None:
    sender = backend()
    client = sns.client(REGION, None, sender.timeout)
    with Stubber(client) as stub:
        stub.add_client_error("publish", service_error_code=code, http_status_code=status)
        with pytest.raises(SmsBackendError) as caught:
            sender.send(SMS)

    assert (caught.value.provider_code, caught.value.transient) == (code, transient)
    assert "7400123456" not in caught.value.describe()


def test_an_endpoint_slower_than_timeout_is_transient(fake_provider: FakeProvider) -> None:
    fake_provider.answer(Reply(200, {}, delay=1.0))

    with pytest.raises(SmsBackendError) as caught:
        backend(ENDPOINT_URL=fake_provider.url, TIMEOUT=0.2).send(SMS)

    assert (caught.value.transient, caught.value.provider_code) == (True, "timeout")


def test_an_endpoint_that_does_not_answer_is_transient(closed_port_url: str) -> None:
    with pytest.raises(SmsBackendError) as caught:
        backend(ENDPOINT_URL=closed_port_url).send(SMS)

    assert (caught.value.transient, caught.value.provider_code) == (True, "connection_error")


def test_a_missing_region_is_named_in_the_error() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"INTELLIAUTH_SMS\['SNS'\]\['REGION'\]"):
        sns.SmsBackend(config={})
