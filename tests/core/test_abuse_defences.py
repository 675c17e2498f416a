"""SMS bombing and SMS pumping defences in the one gate (CONTRACT §2; issue 10).

The per-user sign-in cap across flows, the per-destination cap across users and tenants,
and the SMS-pumping breaker in its three modes. Each send goes through the code core as
every send path does (``tests.core.conftest.SmsDriver``).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from intelliauth_sms import signals
from intelliauth_sms.exceptions import CostCapReached, DestinationPaused, RateLimited
from intelliauth_sms.models import (
    AuditEvent,
    CodePurpose,
    CountryRule,
    PrefixBreaker,
    SmsMessage,
)
from intelliauth_sms.services import pumping
from intelliauth_sms.services.context import Caller
from tests.core.conftest import policy_of
from tests.factories import MembershipFactory, TenantFactory, UserFactory

#: Sequential numbers of one prefix (+44 7400 1…: the first 7 digits are 4474001).
PREFIX = "4474001"


def pumped(i: int) -> str:
    return f"+4474001{i:05d}"


@pytest.fixture
def callers(default_tenant: Any) -> Iterator[Any]:
    """A new user (their own caps) of the default tenant, on each call."""
    count = iter(range(10_000))

    def make(tenant: Any = None) -> Caller:
        user = UserFactory(username=f"caller-{next(count)}")
        if tenant is not None:
            MembershipFactory(user=user, tenant=tenant)
        return Caller.for_user(user)

    yield make


def refusals(code: str) -> int:
    return AuditEvent.objects.filter(failure_code=code, event_type="sms_refused").count()


# --- per-user sign-in cap across flows ------------------------------------------------------


def test_one_user_gets_at_most_ten_sign_in_codes_an_hour_across_flows(
    sms: Any, caller: Caller
) -> None:
    for i in range(10):  # ten flows, a code each: the per-flow limit never applies
        sms.send(caller, phone=f"+1415555{i:04d}", deliver=False)
    with pytest.raises(RateLimited) as raised:
        sms.send(caller, phone="+14155550099")
    assert raised.value.retry_after is not None and raised.value.retry_after > 3500
    assert refusals("rate_limited") == 1


def test_recovery_codes_count_toward_it_and_enrolment_codes_do_not(
    sms: Any, caller: Caller
) -> None:
    for i in range(5):
        sms.send(caller, purpose=CodePurpose.ENROLMENT, phone=f"+1415555{i:04d}", deliver=False)
    for i in range(5, 15):
        purpose = CodePurpose.RECOVERY if i % 2 else CodePurpose.AUTHENTICATION
        sms.send(caller, purpose=purpose, phone=f"+1415555{i:04d}", deliver=False)
    with pytest.raises(RateLimited):
        sms.send(caller, purpose=CodePurpose.RECOVERY, phone="+14155550099")


def test_the_cap_follows_the_policy(sms: Any, caller: Caller, default_tenant: Any) -> None:
    policy_of(default_tenant, user_auth_sms_per_hour=2)
    sms.send(caller, phone="+14155550001", deliver=False)
    sms.send(caller, phone="+14155550002", deliver=False)
    with pytest.raises(RateLimited):
        sms.send(caller, phone="+14155550003")


# --- per-destination cap ------------------------------------------------------------------


def test_one_number_gets_at_most_ten_codes_an_hour_across_users_and_tenants(
    sms: Any, callers: Any
) -> None:
    other_tenant = TenantFactory()
    for i in range(10):
        sms.send(callers(other_tenant if i % 2 else None), phone="+14155550100", deliver=False)
    with pytest.raises(RateLimited):
        sms.send(callers(), phone="+14155550100")
    sms.send(callers(), phone="+14155550101")  # another number is another count
    assert SmsMessage.objects.count() == 11


# --- the SMS-pumping breaker ----------------------------------------------------------------


@pytest.fixture
def trips() -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    signals.pumping_breaker_tripped.connect(receiver)
    yield received
    signals.pumping_breaker_tripped.disconnect(receiver)


def pump(sms: Any, callers: Any, count: int, start: int = 0, deliver: bool = False) -> None:
    for i in range(start, start + count):
        sms.send(callers(), phone=pumped(i), deliver=deliver)


def test_enforce_pauses_a_prefix_after_thirty_unverified_sends(
    sms: Any, callers: Any, default_tenant: Any, trips: list[dict[str, Any]]
) -> None:
    pump(sms, callers, 30)

    with pytest.raises(DestinationPaused) as raised:
        sms.send(callers(), phone=pumped(30))

    assert raised.value.code == "destination_paused" and raised.value.status_code == 403
    with pytest.raises(DestinationPaused):
        sms.send(callers(), phone=pumped(31))
    assert SmsMessage.objects.count() == 30
    tripped = AuditEvent.objects.get(event_type="pumping_breaker_tripped")
    assert tripped.detail == {"prefix": PREFIX, "mode": "enforce", "sends": 30, "verified": 0}
    assert tripped.tenant == default_tenant and tripped.phone_last4 == ""
    assert refusals("destination_paused") == 2
    assert [(t["prefix"], t["mode"]) for t in trips] == [(PREFIX, "enforce")]
    breaker = PrefixBreaker.objects.get(tenant=default_tenant, prefix=PREFIX)
    assert breaker.is_paused
    # Other prefixes, and other tenants' sends to this one, go on.
    sms.send(callers(), phone="+447911123456", deliver=False)  # prefix 4479111
    sms.send(callers(TenantFactory()), phone=pumped(40), deliver=False)


def test_the_pause_lasts_sixty_minutes(sms: Any, callers: Any, clock: Any) -> None:
    pump(sms, callers, 30)
    with pytest.raises(DestinationPaused):
        sms.send(callers(), phone=pumped(30))
    clock.shift(59 * 60)
    with pytest.raises(DestinationPaused):
        sms.send(callers(), phone=pumped(31))
    clock.shift(2 * 60 + 3600)  # the pause is over and the hour's sends have aged out
    sms.send(callers(), phone=pumped(32), deliver=False)


def test_an_admin_clearance_reopens_the_prefix_and_starts_a_new_count(
    sms: Any, callers: Any, default_tenant: Any, superuser: Any
) -> None:
    pump(sms, callers, 30)
    with pytest.raises(DestinationPaused):
        sms.send(callers(), phone=pumped(30))
    breaker = PrefixBreaker.objects.get(tenant=default_tenant, prefix=PREFIX)

    pumping.clear(breaker, superuser, ip="192.0.2.4")

    pump(sms, callers, 29, start=31)  # a fresh count: 29 more go out
    cleared = AuditEvent.objects.get(event_type="pumping_breaker_cleared")
    assert cleared.actor == superuser and cleared.detail == {"prefix": PREFIX}
    with pytest.raises(DestinationPaused):  # and 30 unverified trip it again
        pump(sms, callers, 2, start=60)


def test_monitor_sends_everything_and_records_the_trip_once(
    sms: Any, callers: Any, default_tenant: Any, trips: list[dict[str, Any]]
) -> None:
    policy_of(default_tenant, pumping_protection="monitor")
    pump(sms, callers, 45, deliver=True)  # every send goes out (and commits its callbacks)
    assert SmsMessage.objects.count() == 45
    tripped = AuditEvent.objects.get(event_type="pumping_breaker_tripped")
    assert tripped.detail["mode"] == "monitor"
    assert [t["mode"] for t in trips] == ["monitor"]
    assert refusals("destination_paused") == 0


def test_a_monitor_trip_stands_when_the_cost_cap_refuses_the_send_that_decided_it(
    sms: Any, callers: Any, default_tenant: Any, trips: list[dict[str, Any]]
) -> None:
    """The cap is checked after the breaker: its refusal must not roll the trip back."""
    CountryRule.objects.create(
        tenant=default_tenant, country="GB", unit_cost=Decimal("1"), high_cost=True
    )
    policy_of(default_tenant, pumping_protection="monitor", daily_high_cost_cap=Decimal("30"))
    pump(sms, callers, 30)

    with pytest.raises(CostCapReached):
        sms.send(callers(), phone=pumped(30))

    tripped = AuditEvent.objects.get(event_type="pumping_breaker_tripped")
    assert tripped.detail == {"prefix": PREFIX, "mode": "monitor", "sends": 30, "verified": 0}
    assert [t["mode"] for t in trips] == ["monitor"]
    assert refusals("cost_cap_reached") == 1 and SmsMessage.objects.count() == 30


def test_a_prefix_marked_monitor_only_is_never_paused(
    sms: Any, callers: Any, default_tenant: Any, superuser: Any
) -> None:
    pump(sms, callers, 30)
    with pytest.raises(DestinationPaused):
        sms.send(callers(), phone=pumped(30))
    breaker = PrefixBreaker.objects.get(tenant=default_tenant, prefix=PREFIX)
    pumping.set_monitor_only(breaker, superuser, True)
    pump(sms, callers, 5, start=31)
    change = AuditEvent.objects.get(event_type="policy_changed")
    assert change.detail["target"] == "pumping_breaker" and change.detail["new"] is True


def test_off_counts_nothing(sms: Any, callers: Any, default_tenant: Any) -> None:
    policy_of(default_tenant, pumping_protection="off")
    pump(sms, callers, 40)
    assert not PrefixBreaker.objects.exists()
    assert not AuditEvent.objects.filter(event_type="pumping_breaker_tripped").exists()


def test_traffic_that_verifies_its_codes_never_trips_it(sms: Any, callers: Any) -> None:
    """Legitimate users type their codes back: one in four is plenty above 20 %."""
    for i in range(60):
        caller = callers()
        sent = sms.send(caller, phone=pumped(i))
        if i % 4 == 0:
            sms.check(caller, sent.subject, sent.code)
    assert not AuditEvent.objects.filter(event_type="pumping_breaker_tripped").exists()
    assert SmsMessage.objects.count() == 60


def test_the_numbers_digits_are_not_kept_beyond_the_last_four(sms: Any, callers: Any) -> None:
    pump(sms, callers, 3)
    rows = list(SmsMessage.objects.values("prefix_hash", "phone_last4"))
    assert all(PREFIX not in row["prefix_hash"] for row in rows)
    assert not PrefixBreaker.objects.exclude(prefix="").exists()  # digits only once tripped


@pytest.fixture
def superuser(db: Any) -> Any:
    return UserFactory(username="root", is_staff=True, is_superuser=True)
