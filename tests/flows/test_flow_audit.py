"""The sign-in step's audit trail: sent, verified, failed (with its code), refused, lockout.

Every event names the flow, the user and the tenant, and holds at most the last 4 digits
of the number and never a code; the log lines written with them likewise.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.forms.models import model_to_dict

from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import AuditEvent, AuthFlow, CountryRule, TenantPolicy
from tests.factories import CountryRuleFactory
from tests.flows import PHONE, complete, events, initiate, initiate_ok, wrong


def _subject_events(flow: AuthFlow) -> list[tuple[str, str, str]]:
    return [
        (e.event_type, e.outcome, e.failure_code)
        for e in AuditEvent.objects.filter(subject_id=flow.id).order_by("created_at", "id")
    ]


def _assert_at_most_last4(codes: list[str]) -> None:
    digits = PHONE.lstrip("+")
    for event in AuditEvent.objects.all():
        assert event.phone_last4 in ("", digits[-4:]), event
        # The free-text fields (ids and timestamps are random digits, left out).
        text = json.dumps(
            model_to_dict(
                event,
                fields=["event_type", "outcome", "failure_code", "purpose", "phone_last4"],
            )
            | {"detail": event.detail, "str": str(event)}
        )
        for length in range(5, len(digits) + 1):
            assert digits[-length:] not in text, f"{digits[-length:]} in {text}"
        for code in codes:
            assert code not in text, f"code {code} in {text}"


def test_a_send_is_audited_as_sms_sent_with_the_flow_and_last_4_digits(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    initiate_ok(anon_api, flow.id, outbox)

    [sent] = events("sms_sent")
    assert (sent.outcome, sent.purpose, sent.subject_id) == ("success", "authentication", flow.id)
    assert (sent.user, sent.tenant, sent.ip_address) == (flow.user, flow.tenant, "127.0.0.1")
    assert (sent.phone_last4, sent.detail) == ("0100", {"country": "US"})


def test_a_correct_code_is_audited_as_checked_and_mfa_verified(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)

    complete(anon_api, flow.id, code)

    assert _subject_events(flow) == [
        ("sms_sent", "success", ""),
        ("code_checked", "success", ""),
        ("mfa_verified", "success", ""),
    ]
    [verified] = events("mfa_verified")
    assert (verified.phone_last4, verified.purpose, verified.user) == (
        "0100",
        "authentication",
        flow.user,
    )
    _assert_at_most_last4([code])


def test_each_failed_check_is_audited_with_its_error_code(
    clock: Any, anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)

    complete(anon_api, flow.id, "12345")  # invalid_code_format
    complete(anon_api, flow.id, wrong(code))  # invalid_code
    clock.shift(300)
    complete(anon_api, flow.id, code)  # code_expired

    checked = [(e.outcome, e.failure_code, e.phone_last4) for e in events("code_checked")]
    assert checked == [
        ("failure", "invalid_code_format", "0100"),
        ("failure", "invalid_code", "0100"),
        ("failure", "code_expired", "0100"),
    ]
    assert {e.subject_id for e in events("code_checked")} == {flow.id}
    _assert_at_most_last4([code])


def test_a_replay_on_a_verified_flow_is_audited_as_a_failed_check(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    complete(anon_api, flow.id, code)

    complete(anon_api, flow.id, code)

    assert [(e.outcome, e.failure_code) for e in events("code_checked")] == [
        ("success", ""),
        ("failure", "code_expired"),
    ]


def test_refused_sends_are_audited_with_their_error_code(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], policy: TenantPolicy
) -> None:
    for _ in range(3):
        initiate_ok(anon_api, flow.id, outbox)
    initiate(anon_api, flow.id)  # rate_limited
    other = start_flow(flow.user)
    CountryRuleFactory(tenant=flow.tenant, country="US", action=CountryRule.Action.BLOCK)
    initiate(anon_api, other.id)  # country_not_allowed

    refused = [(e.subject_id, e.failure_code, e.phone_last4) for e in events("flow_step_refused")]
    assert refused == [
        (flow.id, "rate_limited", "0100"),
        (other.id, "country_not_allowed", "0100"),
    ]
    assert {e.outcome for e in events("flow_step_refused")} == {"failure"}
    assert len(events("sms_sent")) == 3


def test_a_lockout_is_audited_once_and_later_refusals_as_locked(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    for _ in range(5):
        complete(anon_api, flow.id, wrong(code))
    complete(anon_api, flow.id, wrong(code))
    initiate(anon_api, flow.id)

    [lockout] = events("lockout_started")
    assert (lockout.user, lockout.outcome, lockout.failure_code) == (
        flow.user,
        "failure",
        "locked",
    )
    assert [e.failure_code for e in events("code_checked")] == ["invalid_code"] * 4 + ["locked"] * 2
    assert [e.failure_code for e in events("flow_step_refused")] == ["locked"]
    _assert_at_most_last4([code])


def test_the_audit_log_lines_hold_at_most_the_last_4_digits_and_no_code(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = initiate_ok(anon_api, flow.id, outbox)
    complete(anon_api, flow.id, wrong(code))
    complete(anon_api, flow.id, code)

    audit_lines = [r.getMessage() for r in caplog.records if r.name == "intelliauth_sms.audit"]
    assert len(audit_lines) == 4
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("intelliauth"))
    assert PHONE.lstrip("+")[-5:] not in text
    assert code not in text
