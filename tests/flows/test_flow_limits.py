"""The send-policy gate on the sign-in step, and the per-user lockout that spans flows.

Per-flow ``auth_sms_per_hour`` (rolling), per-IP ``ip_sms_per_hour``, country rules added
after enrolment, the daily high-cost cap, and ``max_failed_attempts`` counted per user
across every flow (CONTRACT §2-§3, issue 3).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from rest_framework.test import APIClient

from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import (
    AuthFlow,
    CodeState,
    CountryRule,
    SmsCode,
    SmsFactor,
    SmsMessage,
    SmsUserState,
    TenantPolicy,
)
from tests.api import assert_error
from tests.conftest import last_code
from tests.factories import CountryRuleFactory, SmsFactorFactory, UserFactory
from tests.flows import complete, events, initiate, initiate_ok, snapshot, wrong
from tests.flows.conftest import START

# --- per flow: auth_sms_per_hour ------------------------------------------------------------


def test_the_fourth_code_for_one_flow_within_the_hour_is_rate_limited_with_retry_after(
    clock: Any, anon_api: Any, flow: AuthFlow, outbox: list[Any], policy: TenantPolicy
) -> None:
    assert policy.auth_sms_per_hour == 3
    for _ in range(3):
        initiate_ok(anon_api, flow.id, outbox)
        clock.shift(60)
    third_code = last_code(outbox)
    before = snapshot(outbox)

    response = initiate(anon_api, flow.id)  # 3 minutes after the first

    error = assert_error(response, 429, "rate_limited", extra={"retry_after"})
    assert error["retry_after"] == 3600 - 180
    assert response.headers["Retry-After"] == "3420"
    assert error["message"] == (
        "Codes are limited to a few per hour. Wait 57 minutes, then try again."
    )
    assert snapshot(outbox) == before, "the refused send neither sent nor replaced a code"
    [refused] = events("flow_step_refused")
    assert (refused.failure_code, refused.outcome, refused.subject_id) == (
        "rate_limited",
        "failure",
        flow.id,
    )
    assert complete(anon_api, flow.id, third_code).status_code == 200


def test_the_per_flow_limit_counts_a_rolling_hour(
    clock: Any, anon_api: Any, factor: SmsFactor, outbox: list[Any], settings: Any
) -> None:
    # A flow normally dies after 10 minutes; let this one live long enough to see the window.
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "FLOW_TTL_SECONDS": 3 * 3600}
    flow = start_flow(factor.user)
    for _ in range(3):  # at 0, 20 and 40 minutes
        initiate_ok(anon_api, flow.id, outbox)
        clock.shift(20 * 60)
    clock.shift(-1)  # 59:59 after the first send

    early = initiate(anon_api, flow.id)
    assert_error(early, 429, "rate_limited", extra={"retry_after"})
    assert early.json()["error"]["retry_after"] == 1

    clock.shift(1)  # the first send leaves the window: one slot frees
    initiate_ok(anon_api, flow.id, outbox)

    again = initiate(anon_api, flow.id)
    assert_error(again, 429, "rate_limited", extra={"retry_after"})
    assert again.json()["error"]["retry_after"] == 20 * 60, "until the 20-minute send leaves"
    assert SmsMessage.objects.filter(subject_id=flow.id).count() == 4


def test_a_new_flow_of_the_same_user_can_send_after_a_flow_hit_its_limit(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    for _ in range(3):
        initiate_ok(anon_api, flow.id, outbox)
    assert initiate(anon_api, flow.id).status_code == 429

    second = start_flow(flow.user)
    code = initiate_ok(anon_api, second.id, outbox)

    assert complete(anon_api, second.id, code).status_code == 200
    assert len(outbox) == 4


def test_auth_sms_per_hour_is_read_from_the_tenant_policy(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], policy: TenantPolicy
) -> None:
    policy.auth_sms_per_hour = 1
    policy.save()

    initiate_ok(anon_api, flow.id, outbox)

    assert_error(initiate(anon_api, flow.id), 429, "rate_limited", extra={"retry_after"})
    assert len(outbox) == 1


# --- per IP ---------------------------------------------------------------------------------


def test_the_per_ip_limit_refuses_sends_from_one_ip_across_users_and_flows(
    db: Any, outbox: list[Any], policy: TenantPolicy
) -> None:
    policy.ip_sms_per_hour = 2
    policy.save()
    flows = []
    for index in range(3):
        someone = UserFactory(username=f"walker{index}")
        SmsFactorFactory(user=someone, phone=f"+1415555{index + 200:04d}")
        flows.append(start_flow(someone))
    attacker = APIClient(REMOTE_ADDR="203.0.113.9")

    assert initiate(attacker, flows[0].id).status_code == 202
    assert initiate(attacker, flows[1].id).status_code == 202
    refused = initiate(attacker, flows[2].id)

    assert_error(refused, 429, "rate_limited", extra={"retry_after"}, phones=("+14155550202",))
    assert refused.headers["Retry-After"] == str(refused.json()["error"]["retry_after"])
    assert SmsMessage.objects.filter(subject_id=flows[2].id).count() == 0
    # Another IP is not affected.
    assert initiate(APIClient(REMOTE_ADDR="198.51.100.4"), flows[2].id).status_code == 202
    assert SmsMessage.objects.filter(client_ip="203.0.113.9").count() == 2


# --- country rules and the cost cap ---------------------------------------------------------


def test_a_country_block_added_after_enrolment_refuses_the_send(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    CountryRuleFactory(
        tenant=flow.tenant, country="US", action=CountryRule.Action.BLOCK, unit_cost=0
    )
    before = snapshot(outbox)

    response = initiate(anon_api, flow.id)

    error = assert_error(response, 403, "country_not_allowed")
    assert error["message"] == "We can't send codes to phone numbers in this country."
    assert snapshot(outbox) == before
    [refused] = events("flow_step_refused")
    assert (refused.failure_code, refused.phone_last4) == ("country_not_allowed", "0100")


def test_an_allow_list_that_leaves_out_the_factors_country_refuses_the_send(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    CountryRuleFactory(tenant=flow.tenant, country="GB", action=CountryRule.Action.ALLOW)

    assert_error(initiate(anon_api, flow.id), 403, "country_not_allowed")
    assert outbox == []


def test_the_daily_high_cost_cap_refuses_the_send_that_would_exceed_it(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], policy: TenantPolicy
) -> None:
    CountryRuleFactory(tenant=flow.tenant, country="US", unit_cost=Decimal("1.00"), high_cost=True)
    policy.daily_high_cost_cap = Decimal("1.50")
    policy.save()
    code = initiate_ok(anon_api, flow.id, outbox)
    before = snapshot(outbox)

    response = initiate(anon_api, flow.id)

    assert_error(response, 403, "cost_cap_reached")
    assert snapshot(outbox) == before
    assert [e.failure_code for e in events("flow_step_refused")] == ["cost_cap_reached"]
    assert complete(anon_api, flow.id, code).status_code == 200, "the first code still works"


# --- the failed-code lockout spans flows -----------------------------------------------------


def _wrong_codes(client: Any, flow_id: object, code: str, count: int) -> list[Any]:
    return [complete(client, flow_id, wrong(code)) for _ in range(count)]


def test_four_wrong_codes_in_one_flow_and_one_in_a_new_flow_lock_the_user(
    clock: Any, anon_api: Any, flow: AuthFlow, outbox: list[Any], policy: TenantPolicy
) -> None:
    assert policy.max_failed_attempts == 5
    code_a = initiate_ok(anon_api, flow.id, outbox)
    answers = _wrong_codes(anon_api, flow.id, code_a, 4)
    assert [a.json()["error"]["attempts_remaining"] for a in answers] == [4, 3, 2, 1]

    flow_b = start_flow(flow.user)  # a new flow does not reset the count
    code_b = initiate_ok(anon_api, flow_b.id, outbox)
    locked = complete(anon_api, flow_b.id, wrong(code_b))

    error = assert_error(locked, 429, "locked", extra={"retry_after"}, codes=(code_a, code_b))
    assert error["retry_after"] == 15 * 60
    assert locked.headers["Retry-After"] == "900"
    assert error["message"] == "Too many incorrect codes. Wait 15 minutes, then try again."
    state = SmsUserState.objects.get(user=flow.user)
    assert state.locked_until == START + timedelta(minutes=15)  # the clock is frozen at START
    assert not SmsCode.objects.filter(user=flow.user, state=CodeState.ACTIVE).exists()
    assert len(events("lockout_started", user=flow.user)) == 1


def test_while_locked_every_send_and_check_of_the_user_answers_locked_in_any_flow(
    clock: Any, anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code_a = initiate_ok(anon_api, flow.id, outbox)
    answers = _wrong_codes(anon_api, flow.id, code_a, 5)
    assert answers[-1].status_code == 429
    clock.shift(60)
    fresh = start_flow(flow.user)
    before = snapshot(outbox)

    refused = [
        initiate(anon_api, fresh.id),
        complete(anon_api, fresh.id, "123456"),
        complete(anon_api, flow.id, code_a),  # the right code, burned by the lockout
        initiate(anon_api, flow.id),
    ]

    for response in refused:
        error = assert_error(response, 429, "locked", extra={"retry_after"}, codes=(code_a,))
        assert error["retry_after"] == 14 * 60
    assert snapshot(outbox) == before
    assert {e.failure_code for e in events("flow_step_refused")} == {"locked"}


def test_after_the_lockout_ends_a_new_flow_verifies(
    clock: Any, anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code_a = initiate_ok(anon_api, flow.id, outbox)
    _wrong_codes(anon_api, flow.id, code_a, 5)
    clock.shift(15 * 60)

    later = start_flow(flow.user)
    code = initiate_ok(anon_api, later.id, outbox)

    assert complete(anon_api, later.id, code).json() == {"status": "verified"}
    state = SmsUserState.objects.get(user=flow.user)
    assert (state.failed_attempts, state.consecutive_failures) == (0, 0)


def test_a_new_code_for_the_same_flow_does_not_reset_the_count(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    first = initiate_ok(anon_api, flow.id, outbox)
    _wrong_codes(anon_api, flow.id, first, 4)

    second = initiate_ok(anon_api, flow.id, outbox)

    assert_error(
        complete(anon_api, flow.id, wrong(first, second)), 429, "locked", extra={"retry_after"}
    )


def test_wrong_codes_in_an_enrolment_count_toward_the_sign_in_lockout(
    api: Any, anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    started = api.post("/api/mfa/sms/enrolments/", {"phone_number": "+447911123456"}, format="json")
    assert started.status_code == 201
    enrolment_code = last_code(outbox)
    for _ in range(4):
        api.post(
            f"/api/mfa/sms/enrolments/{started.json()['id']}/complete/",
            {"code": wrong(enrolment_code)},
            format="json",
        )
    code = initiate_ok(anon_api, flow.id, outbox)

    assert_error(
        complete(anon_api, flow.id, wrong(code)),
        429,
        "locked",
        extra={"retry_after"},
        phones=("+14155550100", "+447911123456"),
    )


def test_a_correct_code_in_one_flow_resets_the_count_for_the_next_flow(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    _wrong_codes(anon_api, flow.id, code, 4)
    assert complete(anon_api, flow.id, code).status_code == 200

    later = start_flow(flow.user)
    later_code = initiate_ok(anon_api, later.id, outbox)
    answer = complete(anon_api, later.id, wrong(later_code))

    assert answer.json()["error"] == {
        "code": "invalid_code",
        "message": "Make sure you typed the latest code. Codes expire after 5 minutes.",
        "attempts_remaining": 4,
    }
