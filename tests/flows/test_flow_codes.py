"""A sign-in code works only for its own flow, once, within its TTL, while it is the latest."""

from __future__ import annotations

from typing import Any

from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import (
    AuthFlow,
    CodeState,
    SmsCode,
    SmsFactor,
    SmsMessage,
    SmsUserState,
)
from tests.api import assert_error
from tests.factories import SmsFactorFactory
from tests.flows import OTHER_PHONE, complete, initiate, initiate_ok, snapshot, wrong


def _attempts(user: Any) -> tuple[int, int]:
    state = SmsUserState.objects.filter(user=user).first()
    return (0, 0) if state is None else (state.failed_attempts, state.consecutive_failures)


def test_a_code_of_one_flow_typed_into_another_flow_is_a_wrong_code(
    scripted_codes: Any, anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    scripted_codes("123456", "654321")
    other = start_flow(flow.user)
    code_a = initiate_ok(anon_api, flow.id, outbox)
    code_b = initiate_ok(anon_api, other.id, outbox)
    assert (code_a, code_b) == ("123456", "654321")

    crossed = complete(anon_api, other.id, code_a)

    error = assert_error(crossed, 400, "invalid_code", extra={"attempts_remaining"})
    assert error["attempts_remaining"] == 4
    assert _attempts(flow.user) == (1, 1)
    other.refresh_from_db()
    assert not other.is_verified
    # Neither code was used up by the mix-up.
    assert complete(anon_api, flow.id, code_a).status_code == 200
    assert complete(anon_api, other.id, code_b).status_code == 200


def test_a_code_of_another_users_flow_is_a_wrong_code(
    scripted_codes: Any, anon_api: Any, flow: AuthFlow, other_user: Any, outbox: list[Any]
) -> None:
    scripted_codes("123456", "654321")
    SmsFactorFactory(user=other_user, phone=OTHER_PHONE)
    theirs = start_flow(other_user)
    their_code = initiate_ok(anon_api, theirs.id, outbox)
    initiate_ok(anon_api, flow.id, outbox)

    crossed = complete(anon_api, flow.id, their_code)

    assert_error(crossed, 400, "invalid_code", extra={"attempts_remaining"})
    assert _attempts(flow.user) == (1, 1)
    assert _attempts(other_user) == (0, 0)


def test_a_code_works_once(anon_api: Any, flow: AuthFlow, outbox: list[Any]) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    assert complete(anon_api, flow.id, code).status_code == 200
    before = snapshot(outbox)

    again = complete(anon_api, flow.id, code)

    assert_error(again, 400, "code_expired", codes=(code,))
    assert _attempts(flow.user) == (0, 0), "a used code is not a wrong code"
    assert snapshot(outbox) == before


def test_a_code_works_until_its_ttl_ends(
    clock: Any, anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    clock.shift(299)

    assert complete(anon_api, flow.id, code).status_code == 200


def test_a_code_past_its_ttl_is_code_expired_and_not_an_attempt(
    clock: Any, anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    clock.shift(300)

    answers = [complete(anon_api, flow.id, code), complete(anon_api, flow.id, wrong(code))]

    for answer in answers:
        assert_error(answer, 400, "code_expired", codes=(code,))
    assert _attempts(flow.user) == (0, 0)
    flow.refresh_from_db()
    assert not flow.is_verified


def test_after_a_second_initiate_the_first_code_is_code_expired_and_the_second_works(
    scripted_codes: Any, anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    scripted_codes("123456", "654321")
    first = initiate_ok(anon_api, flow.id, outbox)
    second = initiate_ok(anon_api, flow.id, outbox)

    replaced = complete(anon_api, flow.id, first)

    assert_error(replaced, 400, "code_expired", codes=(first, second))
    assert _attempts(flow.user) == (0, 0), "a replaced code is not a wrong code"
    assert complete(anon_api, flow.id, second).json() == {"status": "verified"}


def test_switching_factor_within_a_flow_replaces_the_code(
    scripted_codes: Any, anon_api: Any, flow: AuthFlow, factor: SmsFactor, outbox: list[Any]
) -> None:
    scripted_codes("123456", "654321")
    second_phone = SmsFactorFactory(user=factor.user, phone=OTHER_PHONE)
    first = initiate_ok(anon_api, flow.id, outbox)
    switched = initiate(anon_api, flow.id, {"factor_id": str(second_phone.id)})
    assert switched.status_code == 202
    assert [sms.to for sms in outbox] == [factor.phone_number, OTHER_PHONE]

    assert_error(complete(anon_api, flow.id, first), 400, "code_expired", phones=())
    assert complete(anon_api, flow.id, "654321").status_code == 200


def test_spaces_and_hyphens_in_the_typed_code_are_ignored(
    anon_api: Any, factor: SmsFactor, outbox: list[Any]
) -> None:
    for typed in ("{a} {b}", "{a}-{b}", " {a} - {b} "):
        flow = start_flow(factor.user)
        code = initiate_ok(anon_api, flow.id, outbox)

        answer = complete(anon_api, flow.id, typed.format(a=code[:3], b=code[3:]))

        assert answer.status_code == 200, (typed, answer.content)


def test_a_verified_flow_refuses_another_code_and_sends_nothing(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    assert complete(anon_api, flow.id, code).status_code == 200
    before = snapshot(outbox)

    response = initiate(anon_api, flow.id)

    assert_error(response, 400, "invalid_request")
    assert snapshot(outbox) == before


def test_a_locked_user_is_answered_locked_even_on_a_verified_flow(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    """CONTRACT §3: while locked, *every* check of the user answers ``locked``."""
    code = initiate_ok(anon_api, flow.id, outbox)
    assert complete(anon_api, flow.id, code).status_code == 200
    other = start_flow(flow.user)
    other_code = initiate_ok(anon_api, other.id, outbox)
    answers = [complete(anon_api, other.id, wrong(other_code)) for _ in range(5)]
    assert answers[-1].status_code == 429

    assert_error(complete(anon_api, flow.id, code), 429, "locked", extra={"retry_after"})


def test_an_initiate_of_a_verified_flow_sends_nothing(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    assert complete(anon_api, flow.id, code).status_code == 200
    sent_before = len(outbox)

    response = initiate(anon_api, flow.id)

    assert_error(response, 400, "invalid_request")
    assert len(outbox) == sent_before
    assert SmsMessage.objects.filter(subject_id=flow.id).count() == 1
    assert not SmsCode.objects.filter(subject_id=flow.id, state=CodeState.ACTIVE).exists()
