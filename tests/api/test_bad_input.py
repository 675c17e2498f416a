"""Bad input through the HTTP API: each answers a clear error and changes nothing.

Every refusal here is checked for the contract's error body, for not echoing more of a
number than its last 4 digits or any code, and for leaving no row and no SMS behind.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.core import mail

from intelliauth_sms.models import AuditEvent, PendingEnrolment, SmsFactor
from tests.api import (
    BASE,
    EXAMPLE_NUMBER_COPY,
    PHONE,
    assert_error,
    assert_no_secrets,
    complete,
    complete_url,
    enrolments_url,
    factor_url,
    factors_url,
    failed_attempts,
    resend,
    resend_url,
    reveal_url,
    snapshot,
    start,
    start_ok,
    wrong,
)
from tests.conftest import CommittingClient, last_code
from tests.factories import SmsFactorFactory
from tests.malformed_codes import MALFORMED_CODES

FACTOR_PHONE = "+447911123456"
ONE_MB = 1024 * 1024


@pytest.fixture
def pending(api: Any, outbox: list[Any]) -> tuple[str, str]:
    """An enrolment of ``user`` waiting for its code: (id, code)."""
    return start_ok(api, outbox)


@pytest.fixture
def factor(user: Any) -> SmsFactor:
    """An enrolled factor of ``user``."""
    return SmsFactorFactory(user=user, phone=FACTOR_PHONE)  # type: ignore[no-any-return]


@pytest.fixture
def urls(pending: tuple[str, str], factor: SmsFactor) -> dict[str, str]:
    """The URL of each endpoint that reads a body, for the caller's own objects."""
    return {
        "start": enrolments_url(),
        "resend": resend_url(pending[0]),
        "complete": complete_url(pending[0]),
        "reveal": reveal_url(factor.pk),
    }


SECRETS = (PHONE, FACTOR_PHONE)


def _unchanged(outbox: list[Any], before: dict[str, int]) -> None:
    assert snapshot(outbox) == before


# --- the body is not a JSON object -------------------------------------------------------


NOT_AN_OBJECT = {
    "list": "[]",
    "list_of_object": '[{"phone_number": "+14155550100", "code": "123456"}]',
    "string": '"x"',
    "number": "1",
    "null": "null",
    "true": "true",
    "malformed": "{",
    "truncated": '{"phone_number": "+14155550100"',
    "trailing_garbage": '{"phone_number": "+14155550100"} x',
    "single_quotes": "{'phone_number': '+14155550100'}",
    "nan": '{"phone_number": NaN}',
    "bad_utf8": b'{"phone_number": "\xff\xfe"}',
    "huge_integer": '{"phone_number": ' + "9" * 5000 + "}",
}


@pytest.mark.parametrize("raw", NOT_AN_OBJECT.values(), ids=NOT_AN_OBJECT.keys())
def test_a_body_that_is_not_a_json_object_is_invalid_request_and_changes_nothing(
    api: Any, outbox: list[Any], urls: dict[str, str], raw: str | bytes
) -> None:
    before = snapshot(outbox)

    responses = {
        name: api.post(url, data=raw, content_type="application/json") for name, url in urls.items()
    }

    for response in responses.values():
        assert_error(response, 400, "invalid_request", phones=SECRETS)
    _unchanged(outbox, before)


DEEP = 5000


def test_deeply_nested_json_is_invalid_request_not_a_server_error(
    api: Any, outbox: list[Any], urls: dict[str, str]
) -> None:
    raw = '{"phone_number": ' + "[" * DEEP + "]" * DEEP + "}"
    before = snapshot(outbox)

    responses = {
        name: api.post(url, data=raw, content_type="application/json") for name, url in urls.items()
    }

    for response in responses.values():
        assert_error(response, 400, "invalid_request", phones=SECRETS)
    _unchanged(outbox, before)


NOT_JSON = {
    "form_urlencoded": (
        "phone_number=%2B14155550100&code=123456",
        "application/x-www-form-urlencoded",
    ),
    "text_plain": ('{"phone_number": "+14155550100"}', "text/plain"),
    "xml": ("<phone_number>+14155550100</phone_number>", "application/xml"),
}


@pytest.mark.parametrize(("raw", "content_type"), NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_body_that_is_not_json_is_invalid_request_and_changes_nothing(
    api: Any, outbox: list[Any], urls: dict[str, str], raw: str, content_type: str
) -> None:
    before = snapshot(outbox)

    responses = {
        name: api.post(url, data=raw, content_type=content_type) for name, url in urls.items()
    }

    for response in responses.values():
        assert_error(response, 400, "invalid_request", phones=SECRETS)
    _unchanged(outbox, before)


def test_a_multipart_form_is_invalid_request_and_changes_nothing(
    api: Any, outbox: list[Any], urls: dict[str, str]
) -> None:
    before = snapshot(outbox)

    responses = {
        name: api.post(url, {"phone_number": PHONE, "code": "123456"}) for name, url in urls.items()
    }

    for response in responses.values():
        assert_error(response, 400, "invalid_request", phones=SECRETS)
    _unchanged(outbox, before)


# --- 1 MB bodies --------------------------------------------------------------------------


def _one_mb_bodies(code: str) -> dict[str, dict[str, Any]]:
    return {
        "start": {"phone_number": "+" + "1" * ONE_MB},
        "start_padding": {"phone_number": PHONE, "padding": "x" * ONE_MB},
        "resend": {"padding": "x" * ONE_MB},
        "complete": {"code": code + " " * ONE_MB},
        "complete_padding": {"code": code, "padding": "x" * ONE_MB},
        "reveal": {"padding": "x" * ONE_MB},
    }


@pytest.mark.parametrize(
    "case", ["start", "start_padding", "resend", "complete", "complete_padding", "reveal"]
)
def test_a_one_megabyte_body_is_invalid_request_and_changes_nothing(
    api: Any,
    outbox: list[Any],
    urls: dict[str, str],
    pending: tuple[str, str],
    user: Any,
    case: str,
) -> None:
    body = _one_mb_bodies(pending[1])[case]
    before, attempts = snapshot(outbox), failed_attempts(user)

    response = api.post(urls[case.split("_")[0]], body, format="json")

    assert len(response.content) < 1000
    assert_error(response, 400, "invalid_request", phones=SECRETS, codes=(pending[1],))
    _unchanged(outbox, before)
    assert failed_attempts(user) == attempts


# --- phone_number -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [{}, {"purpose": "mfa"}, {"phone": PHONE}, {"phone_number ": PHONE}, {"Phone_Number": PHONE}],
    ids=["empty", "purpose_only", "other_key", "key_with_space", "key_case"],
)
def test_a_missing_phone_number_is_invalid_phone_number(
    api: Any, outbox: list[Any], body: dict[str, str]
) -> None:
    before = snapshot(outbox)

    response = api.post(enrolments_url(), body, format="json")

    assert_error(response, 400, "invalid_phone_number")
    _unchanged(outbox, before)


def test_an_empty_request_body_is_a_missing_phone_number(api: Any, outbox: list[Any]) -> None:
    before = snapshot(outbox)

    response = api.post(enrolments_url())

    assert_error(response, 400, "invalid_phone_number")
    _unchanged(outbox, before)


@pytest.mark.parametrize(
    "value",
    [14155550100, 1.4155550100e10, [PHONE], {"number": PHONE}, True, False, None],
    ids=["int", "float", "list", "object", "true", "false", "null"],
)
def test_a_phone_number_that_is_not_a_string_is_invalid_phone_number(
    api: Any, outbox: list[Any], value: object
) -> None:
    before = snapshot(outbox)

    response = start(api, value)  # type: ignore[arg-type]

    assert_error(response, 400, "invalid_phone_number")
    _unchanged(outbox, before)


REFUSED_PHONES = {
    "spaces": "+1 415 555 2671",
    "dashes": "+1-415-555-2671",
    "dots": "+1.415.555.2671",
    "brackets": "+1 (415) 555-2671",
    "brackets_no_space": "+1(415)5552671",
    "missing_plus": "14155552671",
    "national_format": "(415) 555-2671",
    "idd_prefix": "0014155552671",
    "double_plus": "++14155552671",
    "plus_zero": "+014155552671",
    "letters": "+1415555267I",
    "vanity_letters": "+1415CALLNOW",
    "extension": "+14155552671x12",
    "tel_uri": "tel:+14155552671",
    "too_short": "+1415555",
    "too_short_by_one": "+1415555267",
    "too_long_by_one": "+141555526710",
    "too_long": "+1415555267100",
    "over_fifteen_digits": "+1234567890123456",
    "unassigned_area_code": "+19995552671",
    "invalid_area_code": "+10005552671",
    "invalid_exchange": "+14151234567",
    "unassigned_country_code": "+999123456789",
    "invalid_uk_range": "+447700900000",
    "arabic_indic_digits": "+١٤١٥٥٥٥٢٦٧١",
    "fullwidth_digits": "+１４１５５５５２６７１",
    "fullwidth_plus": "＋14155552671",
    "devanagari_digits": "+१४१५५५५२६७१",
    "premium_rate": "+19005552671",
    "toll_free_800": "+18005552671",
    "toll_free_888": "+18885552671",
    "landline_uk": "+442079460958",
    "empty": "",
    "plus_only": "+",
    "leading_space": " +14155552671",
    "trailing_space": "+14155552671 ",
    "trailing_newline": "+14155552671\n",
    "nbsp": "+1\u00a04155552671",
    "zero_width_space": "+1415555\u200b2671",
    "nul_byte": "+14155552671\x00",
    "sql": "+14155552671' OR '1'='1",
    "long_garbage": "+1" + "0" * 10_000,
    # The brief's own examples, based on the guide's number.
    "guide_premium_rate": "+19005550100",
    "guide_toll_free": "+18005550100",
    "guide_arabic_indic_digits": "+١٤١٥٥٥٥٠١٠٠",
    "guide_fullwidth_digits": "+１４１５５５５０１００",
}


@pytest.mark.parametrize("phone", REFUSED_PHONES.values(), ids=REFUSED_PHONES.keys())
def test_a_phone_number_not_in_valid_e164_is_refused_and_changes_nothing(
    api: Any, outbox: list[Any], phone: str
) -> None:
    before = snapshot(outbox)

    response = start(api, phone)

    assert_error(response, 400, "invalid_phone_number", phones=(PHONE, "+14155552671"))
    if len(phone) > 4:
        assert phone not in response.content.decode().replace(EXAMPLE_NUMBER_COPY, "")
    _unchanged(outbox, before)
    assert AuditEvent.objects.filter(event_type="enrolment_refused").count() == 1


@pytest.mark.parametrize(
    "phone", ["+14155550100", "+12125550100", "+447911123456", "+33612345678", "+61412345678"]
)
def test_valid_e164_mobile_numbers_are_accepted(api: Any, outbox: list[Any], phone: str) -> None:
    assert start(api, phone).status_code == 201
    assert outbox[-1].to == phone


# --- purpose ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "purpose",
    ["MFA", "Backup", "primary", "", " mfa", 1, ["mfa"], {"purpose": "mfa"}, True, None],
    ids=[
        "upper",
        "capitalised",
        "unknown",
        "empty",
        "leading_space",
        "int",
        "list",
        "object",
        "bool",
        "null",
    ],
)
def test_an_unknown_or_non_string_purpose_is_invalid_request_and_changes_nothing(
    api: Any, outbox: list[Any], purpose: object
) -> None:
    before = snapshot(outbox)

    response = start(api, purpose=purpose)

    assert_error(response, 400, "invalid_request")
    _unchanged(outbox, before)


# --- code ---------------------------------------------------------------------------------


def _one_wrong_code(api: Any, enrolment_id: str, code: str, user: Any) -> None:
    """Count one wrong code so that "not counted" below is visible in both counters."""
    assert complete(api, enrolment_id, wrong(code)).status_code == 400
    assert failed_attempts(user) == (1, 1)


@pytest.mark.parametrize("make", MALFORMED_CODES.values(), ids=MALFORMED_CODES.keys())
def test_a_malformed_code_is_invalid_code_format_and_not_an_attempt(
    api: Any, outbox: list[Any], user: Any, pending: tuple[str, str], make: Any
) -> None:
    enrolment_id, code = pending
    _one_wrong_code(api, enrolment_id, code, user)
    before = snapshot(outbox)

    response = complete(api, enrolment_id, make(code))

    assert_error(response, 400, "invalid_code_format", codes=(code,))
    assert failed_attempts(user) == (1, 1)
    _unchanged(outbox, before)


NON_STRING_CODES = {
    "int": lambda c: int(c),
    "float": lambda c: float(c),
    "list": lambda c: [c],
    "object": lambda c: {"code": c},
    "true": lambda c: True,
    "null": lambda c: None,
}


@pytest.mark.parametrize("make", NON_STRING_CODES.values(), ids=NON_STRING_CODES.keys())
def test_a_code_that_is_not_a_string_is_invalid_code_format_and_not_an_attempt(
    api: Any, outbox: list[Any], user: Any, pending: tuple[str, str], make: Any
) -> None:
    enrolment_id, code = pending
    _one_wrong_code(api, enrolment_id, code, user)
    before = snapshot(outbox)

    response = complete(api, enrolment_id, make(code))

    assert_error(response, 400, "invalid_code_format", codes=(code,))
    assert failed_attempts(user) == (1, 1)
    _unchanged(outbox, before)


def test_a_missing_code_is_invalid_code_format_and_not_an_attempt(
    api: Any, outbox: list[Any], user: Any, pending: tuple[str, str]
) -> None:
    enrolment_id, code = pending
    _one_wrong_code(api, enrolment_id, code, user)
    before = snapshot(outbox)

    response = api.post(complete_url(enrolment_id), {"otp": code}, format="json")

    assert_error(response, 400, "invalid_code_format", codes=(code,))
    assert failed_attempts(user) == (1, 1)
    _unchanged(outbox, before)


def test_many_malformed_codes_never_lock_and_the_code_still_works(
    api: Any, outbox: list[Any], user: Any, pending: tuple[str, str]
) -> None:
    enrolment_id, code = pending

    for make in MALFORMED_CODES.values():
        assert complete(api, enrolment_id, make(code)).status_code == 400

    assert failed_attempts(user) == (0, 0)
    assert complete(api, enrolment_id, code).status_code == 201


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: f"{c[:3]} {c[3:]}",
        lambda c: f"{c[:3]}-{c[3:]}",
        lambda c: f" {c} ",
        lambda c: f"{c[:2]}-{c[2:4]}-{c[4:]}",
        lambda c: " ".join(c),
        lambda c: f"{c[:3]} - {c[3:]}",
    ],
    ids=["space", "hyphen", "padded", "pairs", "spaced_digits", "spaced_hyphen"],
)
def test_spaces_and_hyphens_in_a_code_are_ignored(
    api: Any, outbox: list[Any], pending: tuple[str, str], typed: Any
) -> None:
    enrolment_id, code = pending

    response = complete(api, enrolment_id, typed(code))

    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "enrolled"


# --- ids: foreign, unknown, malformed ------------------------------------------------------


@pytest.fixture
def victim_pending(other_user: Any, client_for: Any, outbox: list[Any]) -> tuple[Any, str, str]:
    """``other_user``'s pending enrolment: (their client, id, code)."""
    victim = client_for(other_user)
    enrolment_id, code = start_ok(victim, outbox, "+14155550177")
    return victim, enrolment_id, code


@pytest.fixture
def victim_factor(other_user: Any) -> SmsFactor:
    return SmsFactorFactory(user=other_user, phone="+14155550188")  # type: ignore[no-any-return]


VICTIM_PHONES = ("+14155550177", "+14155550188")


def _not_found_body(api: Any) -> dict[str, Any]:
    return dict(api.post(resend_url(uuid.uuid4()), {}, format="json").json())


def test_resending_another_users_enrolment_is_not_found_and_sends_nothing(
    api: Any, outbox: list[Any], victim_pending: tuple[Any, str, str]
) -> None:
    victim, enrolment_id, code = victim_pending
    before = snapshot(outbox)

    response = resend(api, enrolment_id)

    assert_error(response, 404, "not_found", phones=VICTIM_PHONES, codes=(code,))
    assert response.json() == _not_found_body(api)
    _unchanged(outbox, before)
    assert complete(victim, enrolment_id, code).status_code == 201


def test_completing_another_users_enrolment_with_their_code_is_not_found(
    api: Any, outbox: list[Any], user: Any, other_user: Any, victim_pending: tuple[Any, str, str]
) -> None:
    victim, enrolment_id, code = victim_pending
    before = snapshot(outbox)

    response = complete(api, enrolment_id, code)

    assert_error(response, 404, "not_found", phones=VICTIM_PHONES, codes=(code,))
    assert response.json() == _not_found_body(api)
    _unchanged(outbox, before)
    assert not SmsFactor.objects.filter(user=user).exists()
    assert failed_attempts(other_user) == (0, 0)
    assert failed_attempts(user) == (0, 0)
    assert complete(victim, enrolment_id, code).status_code == 201
    assert SmsFactor.objects.get().user == other_user


def test_wrong_codes_on_another_users_enrolment_do_not_lock_them(
    api: Any, outbox: list[Any], other_user: Any, victim_pending: tuple[Any, str, str]
) -> None:
    victim, enrolment_id, code = victim_pending

    for _ in range(6):
        assert_error(complete(api, enrolment_id, wrong(code)), 404, "not_found")

    assert failed_attempts(other_user) == (0, 0)
    assert complete(victim, enrolment_id, code).status_code == 201


def test_revealing_another_users_factor_is_not_found_and_leaks_nothing(
    api: Any, outbox: list[Any], victim_factor: SmsFactor
) -> None:
    before = snapshot(outbox)

    response = api.post(reveal_url(victim_factor.pk), {}, format="json")

    assert_error(response, 404, "not_found", phones=VICTIM_PHONES)
    assert "0188" not in response.content.decode()
    assert response.json() == _not_found_body(api)
    _unchanged(outbox, before)


def test_deleting_another_users_factor_is_not_found_and_keeps_it(
    api: Any, outbox: list[Any], victim_factor: SmsFactor
) -> None:
    before = snapshot(outbox)

    response = api.delete(factor_url(victim_factor.pk))

    assert_error(response, 404, "not_found", phones=VICTIM_PHONES)
    assert response.json() == _not_found_body(api)
    assert SmsFactor.objects.filter(pk=victim_factor.pk).exists()
    _unchanged(outbox, before)
    assert mail.outbox == []


def test_another_users_factor_is_not_listed(api: Any, victim_factor: SmsFactor) -> None:
    response = api.get(factors_url())

    assert response.json() == []
    assert str(victim_factor.pk) not in response.content.decode()


def test_a_factor_id_is_not_an_enrolment_id_and_vice_versa(
    api: Any, outbox: list[Any], pending: tuple[str, str], factor: SmsFactor
) -> None:
    enrolment_id, code = pending
    before = snapshot(outbox)

    responses = [
        resend(api, factor.pk),
        complete(api, factor.pk, code),
        api.post(reveal_url(enrolment_id), {}, format="json"),
        api.delete(factor_url(enrolment_id)),
    ]

    for response in responses:
        assert_error(response, 404, "not_found", phones=SECRETS, codes=(code,))
    _unchanged(outbox, before)


BAD_IDS = {
    "unknown_uuid": "3f1c0d3e-0b7a-4c55-9c1e-2f0a4b5c6d7e",
    "nil_uuid": "00000000-0000-0000-0000-000000000000",
    "word": "not-a-uuid",
    "number": "123",
    "uuid_with_suffix": "3f1c0d3e-0b7a-4c55-9c1e-2f0a4b5c6d7e0",
    "sql": "1%27%20OR%20%271%27%3D%271",
    "percent_encoded_nul": "%00",
    "space": "%20",
    "long": "a" * 2000,
    "non_ascii": "%D9%A1%D9%A2",
    "dot_dot": "..",
}


@pytest.mark.parametrize("bad_id", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_unknown_and_malformed_ids_are_not_found_on_every_endpoint(
    api: Any, outbox: list[Any], pending: tuple[str, str], factor: SmsFactor, bad_id: str
) -> None:
    code = pending[1]
    before = snapshot(outbox)

    responses = [
        api.post(f"{BASE}enrolments/{bad_id}/resend/", {}, format="json"),
        api.post(f"{BASE}enrolments/{bad_id}/complete/", {"code": code}, format="json"),
        api.post(f"{BASE}factors/{bad_id}/reveal/", {}, format="json"),
        api.delete(f"{BASE}factors/{bad_id}/"),
    ]

    for response in responses:
        assert_error(response, 404, "not_found", phones=SECRETS, codes=(code,))
    _unchanged(outbox, before)


# --- authentication -----------------------------------------------------------------------


def _anonymous_requests(client: Any, pending: tuple[str, str], factor: SmsFactor) -> dict[str, Any]:
    enrolment_id, code = pending
    return {
        "start": client.post(enrolments_url(), {"phone_number": "+14155550155"}, format="json"),
        "resend": client.post(resend_url(enrolment_id), {}, format="json"),
        "complete": client.post(complete_url(enrolment_id), {"code": code}, format="json"),
        "list": client.get(factors_url()),
        "reveal": client.post(reveal_url(factor.pk), {}, format="json"),
        "delete": client.delete(factor_url(factor.pk)),
    }


def test_every_endpoint_refuses_an_anonymous_caller_with_not_authenticated(
    anon_api: Any, outbox: list[Any], pending: tuple[str, str], factor: SmsFactor
) -> None:
    before = snapshot(outbox)

    responses = _anonymous_requests(anon_api, pending, factor)

    for name, response in responses.items():
        assert response.status_code == 403, name
        assert_error(response, 403, "not_authenticated", phones=SECRETS, codes=(pending[1],))
    _unchanged(outbox, before)
    assert SmsFactor.objects.filter(pk=factor.pk).exists()


def test_bad_basic_credentials_are_refused_and_change_nothing(
    anon_api: Any, outbox: list[Any], pending: tuple[str, str], factor: SmsFactor
) -> None:
    anon_api.credentials(HTTP_AUTHORIZATION="Basic YWxpY2U6d3Jvbmc=")  # alice:wrong
    before = snapshot(outbox)

    responses = _anonymous_requests(anon_api, pending, factor)

    for response in responses.values():
        assert response.status_code in (401, 403)
        assert response.json()["error"]["code"] == "not_authenticated"
    _unchanged(outbox, before)


def test_session_auth_without_a_csrf_token_is_refused_and_creates_nothing(
    user: Any, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = CommittingClient(enforce_csrf_checks=True)
    client.capture = django_capture_on_commit_callbacks
    client.force_login(user)
    before = snapshot(outbox)

    refused = start(client)

    assert_error(refused, 403, "permission_denied")
    _unchanged(outbox, before)
    client.cookies["csrftoken"] = "a" * 32
    accepted = client.post(
        enrolments_url(), {"phone_number": PHONE}, format="json", HTTP_X_CSRFTOKEN="a" * 32
    )
    assert accepted.status_code == 201, accepted.content


# --- HTTP methods -------------------------------------------------------------------------


WRONG_METHODS = {
    "start": ["get", "put", "patch", "delete"],
    "resend": ["get", "put", "delete"],
    "complete": ["get", "put", "delete"],
    "list": ["post", "put", "delete"],
    "detail": ["get", "post", "put", "patch"],
    "reveal": ["get", "put", "delete"],
}


@pytest.mark.parametrize("endpoint", WRONG_METHODS)
def test_a_wrong_http_method_is_method_not_allowed_and_changes_nothing(
    api: Any,
    outbox: list[Any],
    urls: dict[str, str],
    factor: SmsFactor,
    pending: tuple[str, str],
    endpoint: str,
) -> None:
    url = {**urls, "list": factors_url(), "detail": factor_url(factor.pk)}[endpoint]
    before = snapshot(outbox)

    responses = {
        method: getattr(api, method)(
            url, {"phone_number": PHONE, "code": pending[1]}, format="json"
        )
        for method in WRONG_METHODS[endpoint]
    }

    for response in responses.values():
        assert_error(response, 405, "method_not_allowed", phones=SECRETS, codes=(pending[1],))
    _unchanged(outbox, before)
    assert SmsFactor.objects.filter(pk=factor.pk).exists()


# --- error bodies hold no secrets ---------------------------------------------------------


def test_no_refusal_of_an_enrolment_echoes_the_number_or_the_code(
    api: Any, outbox: list[Any], user: Any
) -> None:
    """Walk one enrolment through every refusal it can meet and read each body."""
    enrolment_id, code = start_ok(api, outbox)
    responses = [
        start(api, "+1 415 555 0100"),
        complete(api, enrolment_id, f"{code}x"),
        complete(api, enrolment_id, wrong(code)),
    ]
    assert resend(api, enrolment_id).status_code == 202
    latest = last_code(outbox)
    responses.append(complete(api, enrolment_id, code))  # replaced
    for _ in range(4):
        responses.append(complete(api, enrolment_id, wrong(latest)))  # 4th answers locked
    responses.append(resend(api, enrolment_id))
    responses.append(
        api.post(enrolments_url(), json.dumps([PHONE]), content_type="application/json")
    )

    codes = [response.json()["error"]["code"] for response in responses]
    assert codes == [
        "invalid_phone_number",
        "invalid_code_format",
        "invalid_code",
        "code_expired",
        "invalid_code",
        "invalid_code",
        "invalid_code",
        "locked",
        "locked",
        "invalid_request",
    ]
    for response in responses:
        assert response.status_code < 500
        assert set(response.json()) == {"error"}
        assert_no_secrets(response, (PHONE,), (code, latest))
        assert "415 555" not in response.content.decode()
    assert PendingEnrolment.objects.count() == 1


def test_nesting_is_limited_by_the_app_not_by_the_python_version(
    api: Any, outbox: list[Any]
) -> None:
    from intelliauth_sms.api.parsers import MAX_JSON_DEPTH, nesting_depth

    assert nesting_depth(b'{"a": [1, {"b": "[[[[ \\" {{"}]}') == 3  # strings do not count
    url = "/api/mfa/sms/enrolments/"
    deepest_allowed = (
        '{"phone_number": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    )
    too_deep = '{"phone_number": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}"

    allowed = api.post(url, data=deepest_allowed, content_type="application/json")
    refused = api.post(url, data=too_deep, content_type="application/json")

    assert_error(allowed, 400, "invalid_phone_number")  # parsed, then judged as a number
    assert_error(refused, 400, "invalid_request")
    assert outbox == []
