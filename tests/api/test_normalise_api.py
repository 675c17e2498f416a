"""``POST phone-numbers/normalise/``: what a person typed, with a country, in E.164.

The endpoint is formatting help for phone fields; the enrolment API itself stays strict.
It answers the number the enrolment API will accept, or ``invalid_phone_number`` under the
same validity and SMS-capable type rules, and it stores, sends and audits nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from intelliauth_sms.exceptions import InvalidPhoneNumber
from intelliauth_sms.models import AuditEvent
from intelliauth_sms.phone import normalise_national
from tests.api import BASE, assert_error, assert_masked, snapshot, start

NORMALISE_URL = f"{BASE}phone-numbers/normalise/"
GB_MOBILE = "+447911123456"
NATIONAL_COPY = "Enter a mobile number that is valid for the country you chose."


def normalise(api: Any, body: Any) -> Any:
    return api.post(NORMALISE_URL, body, format="json")


@pytest.mark.parametrize(
    ("country", "number", "expected"),
    [
        ("GB", "07911 123456", GB_MOBILE),
        ("GB", "07911-123-456", GB_MOBILE),
        ("GB", "07911123456", GB_MOBILE),
        ("GB", "(07911) 123.456", GB_MOBILE),
        ("GB", "07911\u00a0123\u2013456", GB_MOBILE),  # no-break space, en dash
        ("GB", " 07911 123456 ", GB_MOBILE),
        ("gb", "07911 123456", GB_MOBILE),
        ("GB", "0044 7911 123456", GB_MOBILE),  # the international call prefix
        ("GB", "+44 7911 123456", GB_MOBILE),
        ("US", "+44 7911 123456", GB_MOBILE),  # a typed "+" wins over the picker
        ("US", "(415) 555-0100", "+14155550100"),
        ("US", "415.555.0100", "+14155550100"),
        ("DE", "0151 2345 6789", "+4915123456789"),
        ("FR", "06 12 34 56 78", "+33612345678"),
    ],
)
def test_a_typed_number_answers_200_with_e164_and_the_masked_form(
    api: Any, country: str, number: str, expected: str
) -> None:
    response = normalise(api, {"country": country, "number": number})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"phone_number", "phone_number_masked"}
    assert body["phone_number"] == expected
    assert_masked(body["phone_number_masked"], expected)


def test_the_answer_is_accepted_by_the_strict_enrolment_api(api: Any, outbox: list[Any]) -> None:
    typed = normalise(api, {"country": "GB", "number": "07911 123 456"}).json()

    response = start(api, typed["phone_number"])

    assert response.status_code == 201, response.content
    assert outbox[-1].to == GB_MOBILE
    # The enrolment API itself still refuses the typed form.
    assert start(api, "07911 123 456").json()["error"]["code"] == "invalid_phone_number"


@pytest.mark.parametrize(
    ("country", "number"),
    [
        ("US", "07911 123456"),  # a GB number with the wrong country picked
        ("GB", "07700 900 123"),  # Ofcom's drama range: not an assigned number
        ("GB", "0800 123 4567"),  # freephone: SMS codes do not go there
        ("GB", "09012 345678"),  # premium rate
        ("GB", "020 7946 0958"),  # fixed line
        ("US", "1-800-555-0199"),  # toll free
        ("GB", "0791"),  # too short
        ("GB", "07911 123456 789 012 345"),  # too long
        ("GB", "07911 ABC 456"),  # letters
        ("US", "1-800-FLOWERS"),  # a vanity number is not guessed at
        ("GB", "07911 123456 ext. 12"),
        ("GB", "٠٧٩١١١٢٣٤٥٦"),  # Arabic-Indic digits
        ("GB", "０７９１１１２３４５６"),  # fullwidth digits
        ("GB", "07911+123456"),  # "+" only leads
        ("GB", "++447911123456"),
        ("GB", ""),
        ("GB", "   "),
        ("GB", "0" * 65),  # longer than anything a person types
        ("XX", "07911 123456"),  # not a region
        ("", "07911 123456"),
        ("GBR", "07911 123456"),
        ("001", "+44 7911 123456"),  # non-geographic "region" code
        (None, "07911 123456"),
        (44, "07911 123456"),
        ("GB", None),
        ("GB", 7911123456),
        ("GB", ["07911 123456"]),
    ],
)
def test_a_number_that_is_not_valid_for_the_country_is_invalid_phone_number(
    api: Any, outbox: list[Any], country: Any, number: Any
) -> None:
    before = snapshot(outbox)

    response = normalise(api, {"country": country, "number": number})

    error = assert_error(response, 400, "invalid_phone_number", phones=(GB_MOBILE,))
    assert error["message"] == NATIONAL_COPY
    assert snapshot(outbox) == before


@pytest.mark.parametrize("body", [{}, {"country": "GB"}, {"number": "07911 123456"}])
def test_missing_fields_are_invalid_phone_number(api: Any, body: dict[str, Any]) -> None:
    assert_error(normalise(api, body), 400, "invalid_phone_number")


@pytest.mark.parametrize("raw", ["[]", '"07911 123456"', "null", "not json", "{"])
def test_a_body_that_is_not_a_json_object_is_invalid_request(api: Any, raw: str) -> None:
    response = api.post(NORMALISE_URL, raw, content_type="application/json")

    assert_error(response, 400, "invalid_request")


def test_an_anonymous_caller_is_refused_with_not_authenticated(anon_api: Any) -> None:
    response = normalise(anon_api, {"country": "GB", "number": "07911 123456"})

    assert_error(response, 403, "not_authenticated", phones=(GB_MOBILE,))


def test_get_is_method_not_allowed(api: Any) -> None:
    assert_error(api.get(NORMALISE_URL), 405, "method_not_allowed")


def test_nothing_is_stored_sent_or_audited(api: Any, outbox: list[Any]) -> None:
    before = snapshot(outbox)
    events = AuditEvent.objects.count()

    response = normalise(api, {"country": "GB", "number": "07911 123456"})

    assert response.status_code == 200
    assert snapshot(outbox) == before
    assert AuditEvent.objects.count() == events


def test_the_flood_guard_applies(api: Any, settings: Any) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "REQUEST_RATE": "2/m"}
    body = {"country": "GB", "number": "07911 123456"}

    assert [normalise(api, body).status_code for _ in range(2)] == [200, 200]
    error = assert_error(normalise(api, body), 429, "rate_limited", extra={"retry_after"})
    assert error["retry_after"] > 0


def test_normalise_national_is_the_same_rules_as_a_python_call() -> None:
    phone = normalise_national("GB", "07911 123456")

    assert (phone.e164, phone.masked) == (GB_MOBILE, "•••• 3456")
    with pytest.raises(InvalidPhoneNumber) as raised:
        normalise_national("GB", "0800 123 4567")
    assert raised.value.code == "invalid_phone_number"
    assert json.dumps(raised.value.as_body())  # renders as the contract's error body
