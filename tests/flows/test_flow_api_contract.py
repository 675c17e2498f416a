"""CONTRACT §3 rows of ``flows/{id}/sms/initiate/`` and ``flows/{id}/sms/complete/``.

The success shapes exactly, the choice of factor, and 404 ``not_found`` (with nothing sent
or changed) for unknown, expired, malformed and foreign flow ids.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import AuthFlow, FactorPurpose, MessageStatus, SmsFactor, SmsMessage
from tests.api import assert_error, assert_masked, assert_no_secrets
from tests.conftest import last_code
from tests.factories import SmsFactorFactory
from tests.flows import (
    BASE,
    OTHER_PHONE,
    PHONE,
    complete,
    initiate,
    initiate_ok,
    initiate_url,
    snapshot,
    wrong,
)
from tests.flows.conftest import session_request

PHONES = (PHONE, OTHER_PHONE)

# --- initiate: 202 ------------------------------------------------------------------------


def test_initiate_answers_202_pending_with_the_masked_number_and_the_codes_expiry(
    clock: Any, anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    response = initiate(anon_api, flow.id)

    assert response.status_code == 202, response.content
    assert response.json() == {
        "status": "pending",
        "phone_number_masked": "•••• 0100",
        # The code's expiry: code_ttl_seconds (300) from now.
        "expires_at": "2030-01-15T10:05:00Z",
    }
    assert_masked(response.json()["phone_number_masked"], PHONE)
    assert [sms.to for sms in outbox] == [PHONE]
    assert_no_secrets(response, codes=(last_code(outbox),))


def test_initiate_answers_before_the_sms_is_delivered(
    flow: AuthFlow, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = initiate(APIClient(), flow.id)

    assert response.status_code == 202
    assert outbox == []
    assert SmsMessage.objects.get(subject_id=flow.id).status == MessageStatus.QUEUED
    assert len(callbacks) == 1, "delivery is enqueued once the transaction commits"

    callbacks[0]()

    assert [sms.to for sms in outbox] == [PHONE]
    assert SmsMessage.objects.get(subject_id=flow.id).status == MessageStatus.SENT


def test_an_empty_request_body_initiates_like_an_empty_object(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    response = anon_api.post(initiate_url(flow.id))

    assert response.status_code == 202, response.content
    assert [sms.to for sms in outbox] == [PHONE]


# --- complete: 200 ------------------------------------------------------------------------


def test_complete_with_the_code_answers_200_verified_and_verifies_the_flow(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)

    response = complete(anon_api, flow.id, code)

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "verified"}
    flow.refresh_from_db()
    assert flow.is_verified
    assert flow.logged_in_at is None, "verifying is not logging in"


def test_a_wrong_code_answers_invalid_code_with_attempts_remaining(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)

    response = complete(anon_api, flow.id, wrong(code))

    error = assert_error(response, 400, "invalid_code", extra={"attempts_remaining"}, codes=(code,))
    assert error["attempts_remaining"] == 4
    assert error["message"] == "Make sure you typed the latest code. Codes expire after 5 minutes."
    flow.refresh_from_db()
    assert not flow.is_verified


def test_complete_before_any_code_was_sent_is_code_expired(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    response = complete(anon_api, flow.id, "123456")

    assert_error(response, 400, "code_expired")
    flow.refresh_from_db()
    assert not flow.is_verified


# --- which factor ---------------------------------------------------------------------------


def test_factor_id_of_the_users_own_mfa_factor_sends_to_that_phone(
    anon_api: Any, flow: AuthFlow, factor: SmsFactor, outbox: list[Any]
) -> None:
    second = SmsFactorFactory(user=factor.user, phone=OTHER_PHONE)

    response = initiate(anon_api, flow.id, {"factor_id": str(second.id)})

    assert response.status_code == 202, response.content
    assert response.json()["phone_number_masked"] == "•••• 3456"
    assert [sms.to for sms in outbox] == [OTHER_PHONE]
    flow.refresh_from_db()
    assert flow.factor_id == second.id
    assert complete(anon_api, flow.id, last_code(outbox)).status_code == 200


def test_without_factor_id_the_first_enrolled_mfa_factor_is_used(
    anon_api: Any, flow: AuthFlow, factor: SmsFactor, outbox: list[Any]
) -> None:
    SmsFactorFactory(user=factor.user, phone=OTHER_PHONE)

    for body in ({}, {"factor_id": None}):
        assert initiate(anon_api, flow.id, body).json()["phone_number_masked"] == "•••• 0100"

    assert [sms.to for sms in outbox] == [PHONE, PHONE]


def test_a_backup_factor_is_never_chosen_for_sign_in(
    anon_api: Any, flow: AuthFlow, factor: SmsFactor, outbox: list[Any]
) -> None:
    # Enrolled before the sign-in phone, so "the first factor" would pick it if not excluded.
    backup = SmsFactorFactory(user=factor.user, phone=OTHER_PHONE, purpose=FactorPurpose.BACKUP)
    SmsFactor.objects.filter(pk=backup.pk).update(created_at=factor.created_at - timedelta(days=1))

    assert initiate(anon_api, flow.id).json()["phone_number_masked"] == "•••• 0100"
    assert [sms.to for sms in outbox] == [PHONE]


def test_factor_id_of_a_backup_factor_is_not_found_and_sends_nothing(
    anon_api: Any, flow: AuthFlow, factor: SmsFactor, outbox: list[Any]
) -> None:
    backup = SmsFactorFactory(user=factor.user, phone=OTHER_PHONE, purpose=FactorPurpose.BACKUP)
    before = snapshot(outbox)

    response = initiate(anon_api, flow.id, {"factor_id": str(backup.id)})

    assert_error(response, 404, "not_found", phones=PHONES)
    assert snapshot(outbox) == before


def test_factor_id_of_another_users_factor_is_not_found_and_sends_nothing(
    anon_api: Any, flow: AuthFlow, other_user: Any, outbox: list[Any]
) -> None:
    theirs = SmsFactorFactory(user=other_user, phone=OTHER_PHONE)
    before = snapshot(outbox)

    response = initiate(anon_api, flow.id, {"factor_id": str(theirs.id)})

    assert_error(response, 404, "not_found", phones=PHONES)
    assert snapshot(outbox) == before


@pytest.mark.parametrize(
    "factor_id",
    ["not-a-uuid", "", "1", str(uuid.uuid4())],
    ids=["malformed", "empty", "digit", "unknown"],
)
def test_factor_id_that_is_no_factor_at_all_is_not_found(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], factor_id: str
) -> None:
    before = snapshot(outbox)

    response = initiate(anon_api, flow.id, {"factor_id": factor_id})

    assert_error(response, 404, "not_found")
    assert snapshot(outbox) == before


@pytest.mark.parametrize(
    "factor_id",
    [1, 1.5, True, ["x"], {"id": "x"}],
    ids=["int", "float", "bool", "list", "object"],
)
def test_factor_id_that_is_not_a_string_is_invalid_request(
    anon_api: Any, flow: AuthFlow, factor: SmsFactor, outbox: list[Any], factor_id: object
) -> None:
    before = snapshot(outbox)

    response = initiate(anon_api, flow.id, {"factor_id": factor_id})

    assert_error(response, 400, "invalid_request")
    assert snapshot(outbox) == before


def test_a_user_without_an_sms_factor_is_not_found_and_sent_nothing(
    anon_api: Any, user: Any, outbox: list[Any]
) -> None:
    flow = start_flow(user)
    before = snapshot(outbox)

    response = initiate(anon_api, flow.id)

    assert_error(response, 404, "not_found")
    assert snapshot(outbox) == before


def test_a_user_with_only_a_backup_factor_is_not_found_and_sent_nothing(
    anon_api: Any, user: Any, outbox: list[Any]
) -> None:
    SmsFactorFactory(user=user, phone=PHONE, purpose=FactorPurpose.BACKUP)
    flow = start_flow(user)
    before = snapshot(outbox)

    response = initiate(anon_api, flow.id)

    assert_error(response, 404, "not_found")
    assert snapshot(outbox) == before


# --- flows that cannot be used: 404 not_found -----------------------------------------------


MALFORMED_FLOW_IDS = {
    "word": "not-a-uuid",
    "digits": "12345",
    "truncated": str(uuid.UUID(int=1))[:-1],
    "bad_hex": "0000000g-0000-4000-8000-000000000000",
    "too_long": str(uuid.UUID(int=1)) + "0",
    "huge": "a" * 2000,
    "percent_encoded_nul": "%00",
    "sql": "1' OR '1'='1",
    "non_ascii": "١٢٣",
}


def _both(client: Any, flow_id: object, code: str = "123456") -> list[Any]:
    return [initiate(client, flow_id), complete(client, flow_id, code)]


@pytest.mark.parametrize("flow_id", MALFORMED_FLOW_IDS.values(), ids=MALFORMED_FLOW_IDS.keys())
def test_a_malformed_flow_id_is_not_found_and_changes_nothing(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], flow_id: str
) -> None:
    before = snapshot(outbox)

    for response in _both(anon_api, flow_id):
        assert_error(response, 404, "not_found")
    assert snapshot(outbox) == before


def test_a_flow_id_with_extra_path_segments_is_not_found(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    before = snapshot(outbox)

    for path in (
        f"{BASE}flows/{flow.id}/x/sms/initiate/",
        f"{BASE}flows/{flow.id}/sms/initiate",
        f"{BASE}flows//sms/initiate/",
        f"{BASE}flows/{flow.id}/sms/complete/extra/",
    ):
        assert_error(anon_api.post(path, {}, format="json"), 404, "not_found")
    assert snapshot(outbox) == before


def test_an_unknown_flow_id_is_not_found_and_changes_nothing(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    before = snapshot(outbox)

    for response in _both(anon_api, uuid.uuid4()):
        assert_error(response, 404, "not_found")
    assert snapshot(outbox) == before


def test_a_deleted_flow_is_not_found(anon_api: Any, flow: AuthFlow, outbox: list[Any]) -> None:
    flow_id = flow.id
    AuthFlow.objects.filter(pk=flow_id).delete()

    for response in _both(anon_api, flow_id):
        assert_error(response, 404, "not_found")
    assert outbox == []


def test_a_flow_still_works_one_second_before_it_expires(
    anon_api: Any, factor: SmsFactor, outbox: list[Any], clock: Any
) -> None:
    flow = start_flow(factor.user)
    clock.shift(599)

    code = initiate_ok(anon_api, flow.id, outbox)

    assert complete(anon_api, flow.id, code).status_code == 200


def test_an_expired_flow_is_not_found_and_sends_nothing(
    anon_api: Any, factor: SmsFactor, outbox: list[Any], clock: Any
) -> None:
    flow = start_flow(factor.user)
    assert flow.expires_at - flow.created_at == timedelta(seconds=600)
    clock.shift(600)
    before = snapshot(outbox)

    for response in _both(anon_api, flow.id):
        assert_error(response, 404, "not_found")
    assert snapshot(outbox) == before


def test_a_code_sent_before_the_flow_expired_cannot_verify_it_afterwards(
    anon_api: Any, factor: SmsFactor, outbox: list[Any], clock: Any
) -> None:
    flow = start_flow(factor.user)
    clock.shift(400)
    code = initiate_ok(anon_api, flow.id, outbox)  # valid until 700 s, the flow until 600 s
    clock.shift(200)

    assert_error(complete(anon_api, flow.id, code), 404, "not_found", codes=(code,))
    flow.refresh_from_db()
    assert not flow.is_verified


def test_flow_ttl_seconds_setting_sets_the_life_of_a_flow(
    anon_api: Any, factor: SmsFactor, outbox: list[Any], clock: Any, settings: Any
) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "FLOW_TTL_SECONDS": 120}
    flow = start_flow(factor.user)
    clock.shift(120)

    assert_error(initiate(anon_api, flow.id), 404, "not_found")
    assert outbox == []


def test_a_flow_bound_to_another_session_is_not_found_and_sends_nothing(
    anon_api: Any, factor: SmsFactor, outbox: list[Any]
) -> None:
    flow = start_flow(factor.user, request=session_request())
    before = snapshot(outbox)

    for response in _both(anon_api, flow.id):
        assert_error(response, 404, "not_found")
    assert snapshot(outbox) == before


def test_the_not_found_answers_are_identical_whatever_the_reason(
    anon_api: Any, factor: SmsFactor, outbox: list[Any], clock: Any
) -> None:
    """Nothing tells an unknown id from an expired, foreign or malformed one."""
    bound = start_flow(factor.user, request=session_request())
    expired = start_flow(factor.user)
    clock.shift(600)

    answers = {
        (r.status_code, r.content, r.headers.get("Content-Type"))
        for flow_id in (uuid.uuid4(), "junk", bound.id, expired.id)
        for r in _both(anon_api, flow_id)
    }

    assert len(answers) == 1, answers
