"""The sign-in step under concurrency, on PostgreSQL with real row locks (services tier).

Threads are lined up on a barrier and released together; each makes its request on its own
database connection, which it opens before the barrier and closes at the end, as
concurrent web processes would. The outcome is checked against what was recorded (messages,
codes, user state, audit events, signals), not only against the answers.

Run with the services settings (``make test-services``, or ``-m services`` with
``DJANGO_SETTINGS_MODULE=tests.settings_services``); on any other database these tests fail.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from intelliauth_sms import signals
from intelliauth_sms.flows import FlowNotUsable, claim_verified_flow, start_flow
from intelliauth_sms.models import (
    AuditEvent,
    AuthFlow,
    CodeState,
    MessageStatus,
    SmsCode,
    SmsFactor,
    SmsMessage,
    SmsUserState,
    TenantPolicy,
)
from tests.concurrency.conftest import run_concurrently as race
from tests.conftest import last_code
from tests.factories import SmsFactorFactory, UserFactory
from tests.flows import complete, initiate, wrong

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 12


@pytest.fixture(autouse=True)
def _on_postgresql(db: Any) -> None:
    """Row locks are no-ops on SQLite: the races prove nothing there, so refuse to run."""
    if connection.vendor != "postgresql":
        pytest.fail(
            f"The race tests need PostgreSQL, not {connection.vendor!r}: run them with "
            "DJANGO_SETTINGS_MODULE=tests.settings_services (make test-services).",
            pytrace=False,
        )


def answer(response: Any) -> tuple[int, str | None]:
    body = response.json()
    return response.status_code, (body.get("error") or {}).get("code")


@pytest.fixture
def factor(user: Any) -> SmsFactor:
    return SmsFactorFactory(user=user, phone="+14155550100")  # type: ignore[no-any-return]


@pytest.fixture
def flow(factor: SmsFactor) -> AuthFlow:
    return start_flow(factor.user)


@pytest.fixture
def policy(db: Any) -> TenantPolicy:
    return TenantPolicy.objects.get(tenant__slug="default")


@pytest.fixture
def verified_signals() -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []
    guard = threading.Lock()

    def receiver(sender: Any, **kwargs: Any) -> None:
        with guard:
            received.append(kwargs)

    signals.mfa_verified.connect(receiver, dispatch_uid="tests.flows.races")
    yield received
    signals.mfa_verified.disconnect(dispatch_uid="tests.flows.races")


def clients(count: int, ip: str = "127.0.0.1") -> list[APIClient]:
    """One client per thread (a client is not shared between threads)."""
    return [APIClient(REMOTE_ADDR=ip) for _ in range(count)]


def test_concurrent_initiates_of_one_flow_never_exceed_auth_sms_per_hour(
    flow: AuthFlow, policy: TenantPolicy, outbox: list[Any]
) -> None:
    limit = policy.auth_sms_per_hour
    threads = clients(THREADS)

    answers = race(THREADS, lambda i: answer(initiate(threads[i], flow.id)))

    assert Counter(answers) == {(202, None): limit, (429, "rate_limited"): THREADS - limit}
    messages = SmsMessage.objects.filter(subject_id=flow.id)
    assert messages.count() == limit
    # A code replaced before its delivery ran is not sent (status "expired"); the one
    # code left active was delivered.
    statuses = Counter(messages.values_list("status", flat=True))
    assert set(statuses) <= {MessageStatus.SENT, MessageStatus.EXPIRED}, statuses
    assert len(outbox) == statuses[MessageStatus.SENT]
    active = SmsCode.objects.get(subject_id=flow.id, state=CodeState.ACTIVE)
    assert active.message.status == MessageStatus.SENT
    assert AuditEvent.objects.filter(event_type="sms_sent", subject_id=flow.id).count() == limit


def test_concurrent_initiates_across_flows_from_one_ip_never_exceed_ip_sms_per_hour(
    db: Any, policy: TenantPolicy, outbox: list[Any]
) -> None:
    policy.ip_sms_per_hour = 4
    policy.save()
    flows = []
    for index in range(THREADS):
        someone = UserFactory(username=f"racer{index}")
        SmsFactorFactory(user=someone, phone=f"+1415555{index + 300:04d}")
        flows.append(start_flow(someone))
    threads = clients(THREADS, ip="203.0.113.77")

    answers = race(THREADS, lambda i: answer(initiate(threads[i], flows[i].id)))

    assert Counter(answers) == {(202, None): 4, (429, "rate_limited"): THREADS - 4}
    assert SmsMessage.objects.filter(client_ip="203.0.113.77").count() == 4
    assert len(outbox) == 4


def test_concurrent_correct_codes_verify_the_flow_exactly_once(
    flow: AuthFlow,
    factor: SmsFactor,
    outbox: list[Any],
    verified_signals: list[dict[str, Any]],
) -> None:
    assert initiate(APIClient(), flow.id).status_code == 202
    code = last_code(outbox)
    threads = clients(THREADS)

    answers = race(THREADS, lambda i: answer(complete(threads[i], flow.id, code)))

    assert Counter(answers) == {(200, None): 1, (400, "code_expired"): THREADS - 1}
    assert len(verified_signals) == 1
    assert verified_signals[0]["flow"].pk == flow.pk
    assert AuditEvent.objects.filter(event_type="mfa_verified", subject_id=flow.id).count() == 1
    checked = AuditEvent.objects.filter(event_type="code_checked", subject_id=flow.id)
    assert Counter(checked.values_list("failure_code", flat=True)) == {
        "": 1,
        "code_expired": THREADS - 1,
    }
    flow.refresh_from_db()
    factor.refresh_from_db()
    assert flow.verified_at is not None and factor.last_used_at == flow.verified_at
    state = SmsUserState.objects.get(user=flow.user)
    assert (state.failed_attempts, state.consecutive_failures) == (0, 0)


def test_initiates_racing_a_verification_send_nothing_once_the_flow_is_verified(
    flow: AuthFlow, outbox: list[Any]
) -> None:
    assert initiate(APIClient(), flow.id).status_code == 202
    code = last_code(outbox)
    threads = clients(3)

    def act(i: int) -> tuple[int, str | None]:
        if i == 0:
            return answer(complete(threads[i], flow.id, code))
        return answer(initiate(threads[i], flow.id))

    answers = race(3, act)

    # Each initiate either came before the verification (it sent a code, which replaced
    # the one being typed: the verification then answers code_expired) or after it (the
    # flow is verified: invalid_request, nothing sent). Never both a verification and a
    # later send.
    sends = answers[1:].count((202, None))
    assert sends + answers[1:].count((400, "invalid_request")) == 2
    assert SmsMessage.objects.filter(subject_id=flow.id).count() == 1 + sends
    flow.refresh_from_db()
    if answers[0] == (200, None):
        assert sends == 0 and flow.verified_at is not None
        assert not SmsCode.objects.filter(subject_id=flow.id, state=CodeState.ACTIVE).exists()
    else:
        assert answers[0] == (400, "code_expired") and sends >= 1
        assert flow.verified_at is None


def test_concurrent_wrong_codes_across_two_flows_judge_at_most_max_failed_attempts(
    flow: AuthFlow, policy: TenantPolicy, outbox: list[Any]
) -> None:
    limit = policy.max_failed_attempts
    second = start_flow(flow.user)
    # Two flows, so the flow locks do not order the guesses: only the user's lock does.
    assert initiate(APIClient(), flow.id).status_code == 202
    assert initiate(APIClient(), second.id).status_code == 202
    guess = wrong(*(last_code([sms]) for sms in outbox))
    flows = [flow, second]
    threads = clients(THREADS)

    answers = race(THREADS, lambda i: answer(complete(threads[i], flows[i % 2].id, guess)))

    # limit - 1 wrong codes answer invalid_code, the one reaching the limit and all later
    # ones answer locked: never more than ``limit`` judged.
    assert Counter(answers) == {
        (400, "invalid_code"): limit - 1,
        (429, "locked"): THREADS - limit + 1,
    }
    state = SmsUserState.objects.get(user=flow.user)
    assert state.consecutive_failures == limit
    assert state.locked_until is not None
    judged = AuditEvent.objects.filter(event_type="code_checked", failure_code="invalid_code")
    assert judged.count() == limit - 1
    assert AuditEvent.objects.filter(event_type="lockout_started").count() == 1
    assert not SmsCode.objects.filter(user=flow.user, state=CodeState.ACTIVE).exists()


def test_concurrent_claims_of_one_verified_flow_log_in_once(
    flow: AuthFlow, outbox: list[Any]
) -> None:
    assert initiate(APIClient(), flow.id).status_code == 202
    assert complete(APIClient(), flow.id, last_code(outbox)).status_code == 200

    def claim(_: int) -> str:
        try:
            claim_verified_flow(flow.id)
        except FlowNotUsable:
            return "refused"
        return "claimed"

    outcomes = race(THREADS, claim)

    assert Counter(outcomes) == {"claimed": 1, "refused": THREADS - 1}
    assert AuditEvent.objects.filter(event_type="flow_login", subject_id=flow.id).count() == 1
