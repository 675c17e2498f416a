"""``SMS_BACKEND`` as a list: a transient failure moves on to the next backend, a permanent one
stops there (another provider would refuse the same number or is not the fix)."""

from __future__ import annotations

from typing import Any

import pytest

from intelliauth_sms.backends import (
    OutgoingSms,
    SmsBackendError,
    get_backend,
    send_with_failover,
    twilio,
)
from tests.providers.conftest import TWILIO, FakeProvider, Reply, twilio_settings

SMS = OutgoingSms(to="+14155550100", body="Your verification code is 123456.", message_id="m-1")
VONAGE = "intelliauth_sms.backends.vonage.SmsBackend"
VONAGE_OK = Reply(200, {"messages": [{"status": "0", "message-id": "vonage-1"}]})


@pytest.fixture
def two_providers(settings: Any, fake_provider: FakeProvider, second_provider: FakeProvider) -> Any:
    """Twilio first (``fake_provider``), Vonage second (``second_provider``)."""
    settings.INTELLIAUTH_SMS = {
        "SMS_BACKEND": [TWILIO, VONAGE],
        "TWILIO": twilio_settings(fake_provider.url, TIMEOUT=0.2),
        "VONAGE": {
            "API_KEY": "k",
            "API_SECRET": "s",
            "FROM": "Acme",
            "API_URL": second_provider.url,
        },
    }
    second_provider.answer(VONAGE_OK)
    return settings


@pytest.mark.parametrize(
    "first",
    [Reply(503, {}), Reply(429, {"code": 20429}), Reply(201, {"sid": "late"}, delay=1.0)],
    ids=["5xx", "429", "timeout"],
)
def test_a_transient_failure_fails_over_to_the_next_backend(
    two_providers: Any, fake_provider: FakeProvider, second_provider: FakeProvider, first: Reply
) -> None:
    fake_provider.answer(first)

    assert send_with_failover(SMS) == "vonage-1"
    assert len(fake_provider.received) == 1 and len(second_provider.received) == 1


def test_the_first_backend_that_accepts_is_the_only_one_called(
    two_providers: Any, fake_provider: FakeProvider, second_provider: FakeProvider
) -> None:
    fake_provider.answer(Reply(201, {"sid": "SM1"}))

    assert send_with_failover(SMS) == "SM1"
    assert second_provider.received == []


@pytest.mark.parametrize(
    "first",
    [Reply(400, {"code": 21211}), Reply(401, {"code": 20003})],
    ids=["invalid-number", "authentication"],
)
def test_a_permanent_failure_does_not_fail_over(
    two_providers: Any, fake_provider: FakeProvider, second_provider: FakeProvider, first: Reply
) -> None:
    fake_provider.answer(first)

    with pytest.raises(SmsBackendError) as caught:
        send_with_failover(SMS)

    assert not caught.value.transient and caught.value.backend == TWILIO
    assert second_provider.received == []


def test_when_every_backend_fails_transiently_the_last_error_is_raised(
    two_providers: Any, fake_provider: FakeProvider, second_provider: FakeProvider
) -> None:
    fake_provider.answer(Reply(503, {}))
    second_provider.answer(Reply(200, {"messages": [{"status": "1"}]}))  # Vonage: throttled

    with pytest.raises(SmsBackendError) as caught:
        send_with_failover(SMS)

    error = caught.value
    assert (error.backend, error.transient, error.provider_code) == (VONAGE, True, "1")


def test_get_backend_builds_the_first_backend_of_a_list(two_providers: Any) -> None:
    assert type(get_backend()) is twilio.SmsBackend


def test_a_single_path_still_sends_through_failover(settings: Any, outbox: list[Any]) -> None:
    assert send_with_failover(SMS) == "locmem-1"  # tests.settings: the locmem backend
    assert [m.to for m in outbox] == [SMS.to]
