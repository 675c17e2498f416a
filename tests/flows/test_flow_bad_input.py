"""Bad input to the sign-in step: a clear error, and nothing sent, spent or changed."""

from __future__ import annotations

from typing import Any

import pytest

from intelliauth_sms.models import AuthFlow, SmsUserState
from tests.api import assert_error
from tests.flows import complete, complete_url, initiate_ok, initiate_url, snapshot, wrong
from tests.malformed_codes import MALFORMED_CODES

ONE_MB = 1024 * 1024


@pytest.fixture
def sent(anon_api: Any, flow: AuthFlow, outbox: list[Any]) -> str:
    """The flow's code has been sent, and one wrong code typed (so "not counted" shows)."""
    code = initiate_ok(anon_api, flow.id, outbox)
    assert complete(anon_api, flow.id, wrong(code)).status_code == 400
    assert _attempts(flow) == (1, 1)
    return code


def _attempts(flow: AuthFlow) -> tuple[int, int]:
    state = SmsUserState.objects.get(user=flow.user)
    return state.failed_attempts, state.consecutive_failures


def _urls(flow: AuthFlow) -> list[str]:
    return [initiate_url(flow.id), complete_url(flow.id)]


def _still_works(client: Any, flow: AuthFlow, code: str) -> None:
    """The refusals spent nothing: the code still verifies the flow."""
    assert complete(client, flow.id, code).json() == {"status": "verified"}


NOT_AN_OBJECT = {
    "list": "[]",
    "list_of_object": '[{"code": "123456"}]',
    "string": '"123456"',
    "number": "123456",
    "null": "null",
    "true": "true",
    "malformed": "{",
    "truncated": '{"code": "123456"',
    "trailing_garbage": '{"code": "123456"} x',
    "single_quotes": "{'code': '123456'}",
    "nan": '{"code": NaN}',
    "bad_utf8": b'{"code": "\xff\xfe"}',
    "deep_nesting": '{"code": ' + "[" * 5000 + "]" * 5000 + "}",
}


@pytest.mark.parametrize("raw", NOT_AN_OBJECT.values(), ids=NOT_AN_OBJECT.keys())
def test_a_body_that_is_not_a_json_object_is_invalid_request_and_changes_nothing(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], sent: str, raw: str | bytes
) -> None:
    before = snapshot(outbox)

    for url in _urls(flow):
        response = anon_api.post(url, data=raw, content_type="application/json")
        assert_error(response, 400, "invalid_request", codes=(sent,))

    assert snapshot(outbox) == before
    assert _attempts(flow) == (1, 1)
    _still_works(anon_api, flow, sent)


NOT_JSON = {
    "form_urlencoded": ("code=123456", "application/x-www-form-urlencoded"),
    "text_plain": ('{"code": "123456"}', "text/plain"),
    "xml": ("<code>123456</code>", "application/xml"),
}


@pytest.mark.parametrize(("raw", "content_type"), NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_body_that_is_not_json_is_invalid_request_and_changes_nothing(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], sent: str, raw: str, content_type: str
) -> None:
    before = snapshot(outbox)

    for url in _urls(flow):
        response = anon_api.post(url, data=raw, content_type=content_type)
        assert_error(response, 400, "invalid_request", codes=(sent,))

    assert snapshot(outbox) == before
    assert _attempts(flow) == (1, 1)


def test_a_multipart_form_with_the_right_code_is_invalid_request(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], sent: str
) -> None:
    before = snapshot(outbox)

    response = anon_api.post(complete_url(flow.id), {"code": sent})  # multipart

    assert_error(response, 400, "invalid_request", codes=(sent,))
    assert snapshot(outbox) == before


@pytest.mark.parametrize(
    "body",
    [
        {"padding": "x" * ONE_MB},
        {"factor_id": "x" * ONE_MB},
        {"code": "CODE" + " " * ONE_MB},
        {"code": "CODE", "padding": "x" * ONE_MB},
    ],
    ids=["initiate_padding", "initiate_factor_id", "complete_code", "complete_padding"],
)
def test_a_one_megabyte_body_is_invalid_request_and_changes_nothing(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], sent: str, body: dict[str, str]
) -> None:
    url = complete_url(flow.id) if "code" in body else initiate_url(flow.id)
    body = {key: value.replace("CODE", sent) for key, value in body.items()}
    before = snapshot(outbox)

    response = anon_api.post(url, body, format="json")

    assert len(response.content) < 1000
    assert_error(response, 400, "invalid_request", codes=(sent,))
    assert snapshot(outbox) == before
    assert _attempts(flow) == (1, 1)
    _still_works(anon_api, flow, sent)


@pytest.mark.parametrize(
    "body",
    [{}, {"Code": "CODE"}, {"code ": "CODE"}, {"otp": "CODE"}],
    ids=["empty", "key_case", "key_space", "other_key"],
)
def test_a_missing_code_is_invalid_code_format_and_not_an_attempt(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], sent: str, body: dict[str, str]
) -> None:
    body = {key: value.replace("CODE", sent) for key, value in body.items()}
    before = snapshot(outbox)

    response = anon_api.post(complete_url(flow.id), body, format="json")

    error = assert_error(response, 400, "invalid_code_format", codes=(sent,))
    assert error["message"] == "Enter the 6-digit code from the SMS."
    assert snapshot(outbox) == before
    assert _attempts(flow) == (1, 1)


def test_an_empty_request_body_to_complete_is_a_missing_code(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], sent: str
) -> None:
    response = anon_api.post(complete_url(flow.id))

    assert_error(response, 400, "invalid_code_format")
    assert _attempts(flow) == (1, 1)


@pytest.mark.parametrize(
    "make",
    [int, float, lambda c: [c], lambda c: {"code": c}, lambda c: True, lambda c: None],
    ids=["int", "float", "list", "object", "bool", "null"],
)
def test_a_code_that_is_not_a_string_is_invalid_code_format_and_not_an_attempt(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], sent: str, make: Any
) -> None:
    before = snapshot(outbox)

    response = complete(anon_api, flow.id, make(sent))

    assert_error(response, 400, "invalid_code_format", codes=(sent,))
    assert snapshot(outbox) == before
    assert _attempts(flow) == (1, 1)
    _still_works(anon_api, flow, sent)


@pytest.mark.parametrize("make", MALFORMED_CODES.values(), ids=MALFORMED_CODES.keys())
def test_a_code_not_of_six_ascii_digits_is_invalid_code_format_and_not_an_attempt(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], sent: str, make: Any
) -> None:
    before = snapshot(outbox)

    response = complete(anon_api, flow.id, make(sent))

    assert_error(response, 400, "invalid_code_format", codes=(sent,))
    assert snapshot(outbox) == before
    assert _attempts(flow) == (1, 1)
    flow.refresh_from_db()
    assert not flow.is_verified
    _still_works(anon_api, flow, sent)


def test_unknown_keys_next_to_a_valid_code_are_ignored(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], sent: str
) -> None:
    response = anon_api.post(
        complete_url(flow.id), {"code": sent, "flow_id": "x", "user": 1}, format="json"
    )

    assert response.json() == {"status": "verified"}
