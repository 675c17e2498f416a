"""Numbers without a country (region "001") are refused (CONTRACT §2; issue 7 finding)."""

from __future__ import annotations

from typing import Any

import phonenumbers
import pytest

from intelliauth_sms.exceptions import InvalidPhoneNumber
from intelliauth_sms.models import AuditEvent, PendingEnrolment, SmsMessage
from intelliauth_sms.phone import normalise_national, parse_e164

NON_GEOGRAPHIC = {
    code: phonenumbers.format_number(
        phonenumbers.example_number_for_non_geo_entity(code), phonenumbers.PhoneNumberFormat.E164
    )
    for code in (870, 881, 882, 883)
}


@pytest.mark.parametrize("number", NON_GEOGRAPHIC.values(), ids=[f"+{c}" for c in NON_GEOGRAPHIC])
def test_parse_refuses_non_geographic_numbers_even_when_libphonenumber_calls_them_mobile(
    number: str,
) -> None:
    parsed = phonenumbers.parse(number, None)
    assert phonenumbers.is_valid_number(parsed)  # valid ranges: the old check let them in
    with pytest.raises(InvalidPhoneNumber):
        parse_e164(number)


@pytest.mark.parametrize("number", NON_GEOGRAPHIC.values(), ids=[f"+{c}" for c in NON_GEOGRAPHIC])
def test_enrolment_to_a_non_geographic_number_is_invalid_and_writes_nothing(
    number: str, api: Any, outbox: list[Any]
) -> None:
    response = api.post("/api/mfa/sms/enrolments/", {"phone_number": number}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_phone_number"
    assert outbox == []
    assert not PendingEnrolment.objects.exists() and not SmsMessage.objects.exists()
    refused = AuditEvent.objects.get()
    assert refused.failure_code == "invalid_phone_number"


def test_the_normalise_helper_refuses_them_too() -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalise_national("GB", NON_GEOGRAPHIC[881])
