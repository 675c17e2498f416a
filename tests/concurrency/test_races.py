"""Every limit holds under concurrency, on PostgreSQL with real row locks (CONTRACT §2, §3).

Each test releases a dozen threads at once through a barrier; every thread makes one API
request on its own database connection, as concurrent web processes would. The limits are
then checked against what was recorded (``SmsMessage`` rows, user state, audit events),
not only against the answers. The sign-in flow's own races (per-flow send limit, one
verification per flow) are in ``tests/flows/test_flow_races.py``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from rest_framework.test import APIClient

from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import (
    AuditEvent,
    CodeState,
    CountryRule,
    EventType,
    PendingEnrolment,
    SmsCode,
    SmsFactor,
    SmsMessage,
    SmsUserState,
    Tenant,
    TenantPolicy,
)
from tests.concurrency.conftest import run_concurrently
from tests.conftest import last_code
from tests.factories import SmsFactorFactory, UserFactory
from tests.mfa import verified_token

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 12
API = "/api/mfa/sms"
ONE_IP = "203.0.113.7"


@dataclass(frozen=True)
class Answer:
    status: int
    code: str | None = None
    body: dict[str, Any] = field(default_factory=dict)


def answer(response: Any) -> Answer:
    body = response.json() if response.content else {}
    return Answer(response.status_code, (body.get("error") or {}).get("code"), body)


class JsonClient(APIClient):
    """Sends JSON bodies, like every client of the API."""

    def post(self, path: str, data: Any = None, **extra: Any) -> Any:  # type: ignore[override]
        return super().post(path, data if data is not None else {}, format="json", **extra)


def anonymous(ip: str = "127.0.0.1") -> JsonClient:
    return JsonClient(REMOTE_ADDR=ip)


def signed_in(user: Any, ip: str = "127.0.0.1") -> JsonClient:
    """A client for ``user`` (SMS step just passed) with its own copy of the user row."""
    client = anonymous(ip)
    client.force_authenticate(get_user_model().objects.get(pk=user.pk), token=verified_token())
    return client


def phone(index: int) -> str:
    return f"+1415555{100 + index:04d}"


def policy() -> TenantPolicy:
    return TenantPolicy.objects.get(tenant=Tenant.objects.get(slug="default"))


def wrong_code(right: str) -> str:
    return "000000" if right != "000000" else "111111"


def tally(answers: list[Answer]) -> Counter[tuple[int, str | None]]:
    return Counter((a.status, a.code) for a in answers)


def checks(failure_code: str) -> int:
    return AuditEvent.objects.filter(
        event_type=EventType.CODE_CHECKED, failure_code=failure_code
    ).count()


# --- send limits ------------------------------------------------------------------------------


def test_concurrent_resends_of_one_enrolment_never_exceed_enrolment_sms_per_hour(
    user: Any, outbox: list[Any]
) -> None:
    limit = policy().enrolment_sms_per_hour
    started = answer(signed_in(user).post(f"{API}/enrolments/", {"phone_number": phone(0)}))
    assert started.status == 201, started
    enrolment_id = started.body["id"]
    clients = [signed_in(user) for _ in range(THREADS)]

    answers = run_concurrently(
        THREADS, lambda i: answer(clients[i].post(f"{API}/enrolments/{enrolment_id}/resend/", {}))
    )

    assert tally(answers) == {(202, None): limit - 1, (429, "rate_limited"): THREADS - limit + 1}
    assert SmsMessage.objects.filter(user=user).count() == limit
    assert len(outbox) == limit
    # Resends replace the previous code under the lock: never two live codes.
    assert SmsCode.objects.filter(subject_id=enrolment_id, state=CodeState.ACTIVE).count() == 1
    assert AuditEvent.objects.filter(event_type=EventType.SMS_SENT).count() == limit
    refused = AuditEvent.objects.filter(event_type=EventType.SMS_REFUSED)
    assert refused.filter(failure_code="rate_limited").count() == THREADS - limit + 1


def test_concurrent_enrolment_starts_by_one_user_never_exceed_enrolment_sms_per_hour(
    user: Any,
) -> None:
    # Different numbers, so different enrolments: only the user's row lock orders them.
    limit = policy().enrolment_sms_per_hour
    clients = [signed_in(user) for _ in range(THREADS)]

    answers = run_concurrently(
        THREADS,
        lambda i: answer(clients[i].post(f"{API}/enrolments/", {"phone_number": phone(i)})),
    )

    assert tally(answers) == {(201, None): limit, (429, "rate_limited"): THREADS - limit}
    assert SmsMessage.objects.filter(user=user).count() == limit
    assert PendingEnrolment.objects.filter(user=user).count() == limit  # refusals leave none


def test_concurrent_starts_from_one_ip_across_users_never_exceed_ip_sms_per_hour() -> None:
    TenantPolicy.objects.filter(pk=policy().pk).update(ip_sms_per_hour=5)
    users = [UserFactory() for _ in range(THREADS)]
    clients = [signed_in(someone, ip=ONE_IP) for someone in users]

    answers = run_concurrently(
        THREADS,
        lambda i: answer(clients[i].post(f"{API}/enrolments/", {"phone_number": phone(i)})),
    )

    assert tally(answers) == {(201, None): 5, (429, "rate_limited"): THREADS - 5}
    assert SmsMessage.objects.filter(client_ip=ONE_IP).count() == 5
    assert SmsMessage.objects.count() == 5


@pytest.mark.parametrize(
    "addresses",
    [
        [f"2001:db8:7:7::{i + 1:x}" for i in range(THREADS)],  # one /64, many addresses
        ["" if i % 2 else "garbage" for i in range(THREADS)],  # no usable address
    ],
    ids=["one-ipv6-64", "no-usable-address"],
)
def test_concurrent_starts_from_one_address_bucket_never_exceed_ip_sms_per_hour(
    addresses: list[str],
) -> None:
    TenantPolicy.objects.filter(pk=policy().pk).update(ip_sms_per_hour=5)
    users = [UserFactory() for _ in range(THREADS)]
    clients = [signed_in(someone, ip=addresses[i]) for i, someone in enumerate(users)]

    answers = run_concurrently(
        THREADS,
        lambda i: answer(clients[i].post(f"{API}/enrolments/", {"phone_number": phone(i)})),
    )

    assert tally(answers) == {(201, None): 5, (429, "rate_limited"): THREADS - 5}
    assert SmsMessage.objects.count() == 5


def test_concurrent_sends_to_one_number_never_exceed_destination_sms_per_hour() -> None:
    TenantPolicy.objects.filter(pk=policy().pk).update(destination_sms_per_hour=4)
    users = [UserFactory() for _ in range(THREADS)]
    clients = [signed_in(someone, ip=f"198.51.100.{i + 1}") for i, someone in enumerate(users)]

    answers = run_concurrently(
        THREADS,
        lambda i: answer(clients[i].post(f"{API}/enrolments/", {"phone_number": phone(0)})),
    )

    assert tally(answers) == {(201, None): 4, (429, "rate_limited"): THREADS - 4}
    assert SmsMessage.objects.count() == 4


def test_concurrent_sign_in_flows_of_one_user_never_exceed_user_auth_sms_per_hour() -> None:
    """SMS bombing: one user, a new flow per request from its own address, all at once."""
    TenantPolicy.objects.filter(pk=policy().pk).update(user_auth_sms_per_hour=4)
    user = UserFactory()
    SmsFactorFactory(user=user, phone=phone(0))
    flows = [start_flow(user) for _ in range(THREADS)]
    clients = [anonymous(ip=f"198.51.103.{i + 1}") for i in range(THREADS)]

    answers = run_concurrently(
        THREADS,
        lambda i: answer(clients[i].post(f"{API}/flows/{flows[i].id}/sms/initiate/", {})),
    )

    assert tally(answers) == {(202, None): 4, (429, "rate_limited"): THREADS - 4}
    assert SmsMessage.objects.filter(user=user).count() == 4


def race_to_one_prefix() -> list[Answer]:
    """28 unverified sends already went to +44 7400 1…; 12 new users race for the next ones."""
    users = [UserFactory() for _ in range(28 + THREADS)]
    for i in range(28):
        signed_in(users[i], ip=f"198.51.101.{i + 1}").post(
            f"{API}/enrolments/", {"phone_number": f"+4474001{i:05d}"}
        )
    racers = [signed_in(users[28 + i], ip=f"198.51.102.{i + 1}") for i in range(THREADS)]
    return run_concurrently(
        THREADS,
        lambda i: answer(
            racers[i].post(f"{API}/enrolments/", {"phone_number": f"+4474001{100 + i:05d}"})
        ),
    )


def test_concurrent_sends_to_one_prefix_trip_the_breaker_once_and_no_more_get_through() -> None:
    answers = race_to_one_prefix()

    assert tally(answers) == {(201, None): 2, (403, "destination_paused"): THREADS - 2}
    assert SmsMessage.objects.count() == 30
    assert AuditEvent.objects.filter(event_type="pumping_breaker_tripped").count() == 1


def test_concurrent_sends_in_monitor_mode_all_go_out_and_record_one_trip() -> None:
    TenantPolicy.objects.filter(pk=policy().pk).update(pumping_protection="monitor")

    answers = race_to_one_prefix()

    assert tally(answers) == {(201, None): THREADS}
    assert SmsMessage.objects.count() == 28 + THREADS
    trips = AuditEvent.objects.filter(event_type="pumping_breaker_tripped")
    assert [t.detail["mode"] for t in trips] == ["monitor"]


def test_concurrent_high_cost_sends_never_spend_more_than_the_daily_cap() -> None:
    tenant = Tenant.objects.get(slug="default")
    CountryRule.objects.create(
        tenant=tenant, country="GB", action="", unit_cost=Decimal("0.2500"), high_cost=True
    )
    TenantPolicy.objects.filter(tenant=tenant).update(daily_high_cost_cap=Decimal("1.00"))
    users = [UserFactory() for _ in range(THREADS)]
    # One IP per user, so the per-IP limit plays no part.
    clients = [signed_in(someone, ip=f"198.51.100.{i + 1}") for i, someone in enumerate(users)]

    answers = run_concurrently(
        THREADS,
        lambda i: answer(clients[i].post(f"{API}/enrolments/", {"phone_number": "+447400123456"})),
    )

    assert tally(answers) == {(201, None): 4, (403, "cost_cap_reached"): THREADS - 4}
    spend = SmsMessage.objects.filter(tenant=tenant, high_cost=True).aggregate(s=Sum("unit_cost"))
    assert spend["s"] == Decimal("1.00")


# --- code checks ------------------------------------------------------------------------------


def _assert_exactly_one_lockout_after_max_failed_attempts(user: Any, answers: list[Answer]) -> None:
    limit = policy().max_failed_attempts
    # limit - 1 wrong codes answer invalid_code; the one that reaches the limit answers
    # locked, and so does every request judged after it, without being counted.
    assert tally(answers) == {
        (400, "invalid_code"): limit - 1,
        (429, "locked"): THREADS - limit + 1,
    }
    remaining = sorted(a.body["error"]["attempts_remaining"] for a in answers if a.status == 400)
    assert remaining == list(range(1, limit))  # each judged attempt saw the ones before it
    state = SmsUserState.objects.get(user=user)
    assert state.consecutive_failures == limit  # never more than the limit counted
    assert state.failed_attempts == 0  # the lockout resets the window's count
    assert state.locked_until is not None and state.disabled_at is None
    assert checks("invalid_code") == limit - 1
    assert checks("locked") == THREADS - limit + 1
    assert AuditEvent.objects.filter(event_type=EventType.LOCKOUT_STARTED).count() == 1
    assert not SmsCode.objects.filter(user=user, state=CodeState.ACTIVE).exists()  # burned


def test_concurrent_wrong_codes_for_one_enrolment_judge_exactly_max_failed_attempts(
    user: Any, outbox: list[Any]
) -> None:
    started = answer(signed_in(user).post(f"{API}/enrolments/", {"phone_number": phone(0)}))
    assert started.status == 201, started
    wrong = wrong_code(last_code(outbox))
    url = f"{API}/enrolments/{started.body['id']}/complete/"
    clients = [signed_in(user) for _ in range(THREADS)]

    answers = run_concurrently(THREADS, lambda i: answer(clients[i].post(url, {"code": wrong})))

    _assert_exactly_one_lockout_after_max_failed_attempts(user, answers)
    assert not SmsFactor.objects.exists()


def test_concurrent_wrong_codes_across_an_enrolment_and_a_sign_in_count_once_per_user(
    user: Any, outbox: list[Any]
) -> None:
    # Two subjects: the enrolment's and the flow's locks do not order these requests; only
    # the user's failed-code row does.
    SmsFactorFactory(user=user, phone=phone(0))
    flow = start_flow(user)
    sent = answer(anonymous().post(f"{API}/flows/{flow.id}/sms/initiate/", {}))
    assert sent.status == 202, sent
    flow_code = last_code(outbox)
    started = answer(signed_in(user).post(f"{API}/enrolments/", {"phone_number": phone(1)}))
    assert started.status == 201, started
    enrolment_code = last_code(outbox)
    wrong = next(c for c in ("000000", "111111", "222222") if c not in (flow_code, enrolment_code))
    enrolment_url = f"{API}/enrolments/{started.body['id']}/complete/"
    flow_url = f"{API}/flows/{flow.id}/sms/complete/"
    clients = [signed_in(user) if i % 2 else anonymous() for i in range(THREADS)]

    answers = run_concurrently(
        THREADS,
        lambda i: answer(clients[i].post(enrolment_url if i % 2 else flow_url, {"code": wrong})),
    )

    _assert_exactly_one_lockout_after_max_failed_attempts(user, answers)


def test_concurrent_correct_codes_for_one_enrolment_enrol_exactly_one_factor(
    user: Any, outbox: list[Any]
) -> None:
    started = answer(signed_in(user).post(f"{API}/enrolments/", {"phone_number": phone(0)}))
    assert started.status == 201, started
    code = last_code(outbox)
    url = f"{API}/enrolments/{started.body['id']}/complete/"
    clients = [signed_in(user) for _ in range(THREADS)]

    answers = run_concurrently(THREADS, lambda i: answer(clients[i].post(url, {"code": code})))

    assert tally(answers) == {(201, None): 1, (400, "code_expired"): THREADS - 1}
    assert SmsFactor.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(event_type=EventType.FACTOR_ENROLLED).count() == 1
    state = SmsUserState.objects.get(user=user)
    assert (state.failed_attempts, state.consecutive_failures) == (0, 0)  # none was wrong
