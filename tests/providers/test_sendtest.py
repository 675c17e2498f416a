"""``manage.py intelliauth_sms_sendtest``: a fixed test text through the configured backend,
and the provider's answer printed (never the full number)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from intelliauth_sms.management.commands.intelliauth_sms_sendtest import TEST_TEXT
from tests.providers.conftest import TWILIO, FakeProvider, Reply


def sendtest(*args: str) -> str:
    out = StringIO()
    call_command("intelliauth_sms_sendtest", *args, stdout=out)
    return out.getvalue()


def test_it_sends_the_fixed_text_and_prints_the_message_id(twilio_site: FakeProvider) -> None:
    twilio_site.answer(Reply(201, {"sid": "SM42"}))

    printed = sendtest("+14155550100")

    assert "SM42" in printed and "•••• 0100" in printed and "4155550100" not in printed
    (request,) = twilio_site.received
    assert request.form["Body"] == TEST_TEXT and request.form["To"] == "+14155550100"
    assert not any(ch.isdigit() for ch in TEST_TEXT)  # never anything that looks like a code


def test_a_provider_refusal_prints_the_classified_error(twilio_site: FakeProvider) -> None:
    twilio_site.answer(Reply(401, {"code": 20003, "message": "Authenticate"}))

    with pytest.raises(CommandError) as caught:
        sendtest("+14155550100")

    message = str(caught.value)
    assert "permanent" in message and "401" in message and "20003" in message
    assert "4155550100" not in message


def test_a_list_fails_over_as_delivery_does(
    twilio_site: FakeProvider, settings: Any, outbox: list[Any]
) -> None:
    settings.INTELLIAUTH_SMS["SMS_BACKEND"] = [TWILIO, "intelliauth_sms.backends.locmem.SmsBackend"]
    twilio_site.answer(Reply(503, {}))

    assert "locmem-1" in sendtest("+14155550100")
    assert [m.body for m in outbox] == [TEST_TEXT]


def test_backend_picks_one_backend(twilio_site: FakeProvider, outbox: list[Any]) -> None:
    printed = sendtest("+14155550100", "--backend", "intelliauth_sms.backends.locmem.SmsBackend")

    assert "locmem-1" in printed and twilio_site.received == []


@pytest.mark.parametrize("number", ["+1 415 555 0100", "14155550100", "+1415555", "+8812345678"])
def test_an_invalid_number_is_refused_before_any_send(
    twilio_site: FakeProvider, number: str
) -> None:
    with pytest.raises(CommandError, match="not a valid E.164 number"):
        sendtest(number)

    assert twilio_site.received == []


def test_a_missing_setting_is_named(settings: Any) -> None:
    settings.INTELLIAUTH_SMS = {"SMS_BACKEND": TWILIO, "TWILIO": {"ACCOUNT_SID": "AC1"}}

    with pytest.raises(CommandError, match=r"\['TWILIO'\]\['AUTH_TOKEN'\]"):
        sendtest("+14155550100")
