"""The send-policy gate: every limit, the order of the checks, and what a refusal leaves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import RequestFactory

from intelliauth_sms.exceptions import CostCapReached, CountryNotAllowed, Locked, RateLimited
from intelliauth_sms.models import (
    AuditEvent,
    CodePurpose,
    CountryRule,
    EventType,
    Outcome,
    PendingEnrolment,
    SmsCode,
    SmsMessage,
)
from intelliauth_sms.phone import parse_e164
from intelliauth_sms.services import codes, enrolment
from intelliauth_sms.services.context import Caller
from tests.core.conftest import DE, GB, IP, START, US, US_2, policy_of, user_state
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

ENROLMENT = CodePurpose.ENROLMENT


def at(hh: int, mm: int, ss: int = 0, day: int = START.day) -> datetime:
    return START.replace(day=day, hour=hh, minute=mm, second=ss)


def member_of(tenant: Any, username: str) -> Caller:
    membership = MembershipFactory(tenant=tenant, user=UserFactory(username=username))
    return Caller(user=membership.user, tenant=tenant, ip=IP)


# --- per-user enrolment limit ---------------------------------------------------------------


def enrol_at(sms: Any, caller: Caller, clock: Any, *moments: datetime) -> None:
    for moment in moments:
        clock.move_to(moment)
        sms.send(caller, purpose=ENROLMENT, deliver=False)  # each on a new enrolment


def test_the_sixth_enrolment_code_in_an_hour_is_refused_until_the_oldest_leaves(
    sms: Any, caller: Caller, clock: Any
) -> None:
    enrol_at(sms, caller, clock, at(10, 0), at(10, 20), at(10, 40), at(10, 50), at(10, 55))

    clock.move_to(at(10, 59, 59))
    with pytest.raises(RateLimited) as raised:
        sms.send(caller, purpose=ENROLMENT)
    assert raised.value.code == "rate_limited"
    assert raised.value.retry_after == 1  # 10:00 leaves the window at 11:00

    clock.move_to(at(11, 0))
    sms.send(caller, purpose=ENROLMENT)


def test_the_enrolment_window_rolls_instead_of_resetting_on_the_hour(
    sms: Any, caller: Caller, clock: Any
) -> None:
    enrol_at(sms, caller, clock, at(10, 0), at(10, 20), at(10, 40), at(10, 50), at(10, 55))
    clock.move_to(at(11, 0))
    sms.send(caller, purpose=ENROLMENT, deliver=False)  # the 10:00 slot freed

    clock.move_to(at(11, 0, 1))
    with pytest.raises(RateLimited) as raised:
        sms.send(caller, purpose=ENROLMENT)
    assert raised.value.retry_after == 20 * 60 - 1  # until 10:20 leaves

    clock.move_to(at(11, 19, 59))
    with pytest.raises(RateLimited):
        sms.send(caller, purpose=ENROLMENT)
    clock.move_to(at(11, 20))
    sms.send(caller, purpose=ENROLMENT)


def test_sends_late_in_one_clock_hour_still_count_early_in_the_next(
    sms: Any, caller: Caller, clock: Any
) -> None:
    enrol_at(sms, caller, clock, at(10, 50), at(10, 52), at(10, 54), at(10, 56), at(10, 58))

    clock.move_to(at(11, 5))
    with pytest.raises(RateLimited) as raised:
        sms.send(caller, purpose=ENROLMENT)
    assert raised.value.retry_after == 45 * 60


def test_the_enrolment_limit_counts_every_enrolment_of_the_user_but_only_enrolments(
    sms: Any, caller: Caller, other_user: Any
) -> None:
    for _ in range(5):
        sms.send(caller, purpose=CodePurpose.AUTHENTICATION, deliver=False)
    for _ in range(5):
        sms.send(caller, purpose=ENROLMENT, deliver=False)
    with pytest.raises(RateLimited):
        sms.send(caller, purpose=ENROLMENT)
    # Another user has their own allowance (to their own number: the number has a cap too).
    sms.send(Caller.for_user(other_user), purpose=ENROLMENT, phone="+14155550177")


def test_the_enrolment_limit_follows_a_policy_change_on_the_next_send(
    sms: Any, caller: Caller, default_tenant: Any
) -> None:
    for _ in range(5):
        sms.send(caller, purpose=ENROLMENT, deliver=False)
    policy_of(default_tenant, enrolment_sms_per_hour=6)
    sms.send(caller, purpose=ENROLMENT, deliver=False)
    policy_of(default_tenant, enrolment_sms_per_hour=2)

    with pytest.raises(RateLimited):
        sms.send(caller, purpose=ENROLMENT)


def test_a_sign_in_flow_gets_three_codes_an_hour(sms: Any, caller: Caller, clock: Any) -> None:
    first = sms.send(caller, deliver=False)
    for _ in range(2):
        clock.shift(timedelta(minutes=10))
        sms.send(caller, subject=first.subject, deliver=False)

    clock.shift(timedelta(minutes=10))
    with pytest.raises(RateLimited) as raised:
        sms.send(caller, subject=first.subject)
    assert raised.value.retry_after == 30 * 60
    sms.send(caller)  # another flow is not affected


# --- per-IP limit ---------------------------------------------------------------------------


def test_twenty_sends_from_one_ip_across_users_and_tenants_then_refused(
    sms: Any, clock: Any
) -> None:
    acme, globex = TenantFactory(), TenantFactory()
    callers = [member_of(acme if i % 2 else globex, f"user-{i}") for i in range(10)]
    for i in range(20):
        clock.shift(60)
        sms.send(callers[i % 10], phone=f"+1415555{i:04d}", deliver=False)

    clock.shift(60)
    with pytest.raises(RateLimited) as raised:
        sms.send(callers[0], phone="+14155550099")
    assert raised.value.retry_after == 60 * 60 - 20 * 60  # the 10:01 send leaves at 11:01
    other_ip = Caller(user=callers[0].user, tenant=callers[0].tenant, ip="198.51.100.7")
    sms.send(other_ip)


def test_the_ip_limit_applied_is_that_of_the_tenant_of_the_user_sent_for(sms: Any) -> None:
    strict, lenient = TenantFactory(), TenantFactory()
    policy_of(strict, ip_sms_per_hour=3)
    # Only the per-IP limit is under test: the per-user sign-in cap stays out of the way.
    policy_of(lenient, ip_sms_per_hour=25, user_auth_sms_per_hour=100)
    from_strict = member_of(strict, "strict-user")
    from_lenient = member_of(lenient, "lenient-user")

    for i in range(3):
        sms.send(from_lenient, phone=f"+1415555{i:04d}", deliver=False)
    with pytest.raises(RateLimited):
        sms.send(from_strict, phone="+14155550099")
    for i in range(3, 25):
        sms.send(from_lenient, phone=f"+1415555{i:04d}", deliver=False)
    with pytest.raises(RateLimited):
        sms.send(from_lenient, phone="+14155550098")


def test_sends_made_from_python_without_a_request_are_not_ip_limited(
    sms: Any, caller: Caller, default_tenant: Any
) -> None:
    """No HTTP request, no client: the per-IP limit is for requests (see test_ip_buckets)."""
    assert caller.request is None
    policy_of(default_tenant, ip_sms_per_hour=1)
    for _ in range(3):
        sms.send(caller, deliver=False)


# --- country rules --------------------------------------------------------------------------


def rule(tenant: Any, country: str, action: str, cost: str = "0", high: bool = False) -> None:
    CountryRule.objects.create(
        tenant=tenant, country=country, action=action, unit_cost=Decimal(cost), high_cost=high
    )


def test_without_country_rules_every_country_is_allowed(sms: Any, caller: Caller) -> None:
    for phone in (US, GB, DE):
        assert sms.send(caller, phone=phone).message.unit_cost == Decimal("0")


def test_a_block_rule_refuses_its_country_only(
    sms: Any, caller: Caller, default_tenant: Any
) -> None:
    rule(default_tenant, "GB", CountryRule.Action.BLOCK)

    with pytest.raises(CountryNotAllowed) as raised:
        sms.send(caller, phone=GB)
    assert raised.value.code == "country_not_allowed"
    sms.send(caller, phone=US)
    sms.send(caller, phone=DE)


def test_any_allow_rule_switches_to_allow_list_mode(
    sms: Any, caller: Caller, default_tenant: Any
) -> None:
    rule(default_tenant, "US", CountryRule.Action.ALLOW)
    rule(default_tenant, "DE", CountryRule.Action.PRICE_ONLY, "0.05")

    sms.send(caller, phone=US)
    with pytest.raises(CountryNotAllowed):
        sms.send(caller, phone=GB)
    with pytest.raises(CountryNotAllowed):  # priced, but not allow-listed
        sms.send(caller, phone=DE)


def test_a_blank_action_rule_only_prices_its_country(
    sms: Any, caller: Caller, default_tenant: Any
) -> None:
    rule(default_tenant, "GB", CountryRule.Action.PRICE_ONLY, "0.0450", high=True)

    sent = sms.send(caller, phone=GB)
    assert (sent.message.unit_cost, sent.message.high_cost) == (Decimal("0.0450"), True)
    sms.send(caller, phone=US)


def test_country_rules_of_another_tenant_do_not_apply(sms: Any, caller: Caller) -> None:
    rule(TenantFactory(), "GB", CountryRule.Action.BLOCK)
    sms.send(caller, phone=GB)


def test_a_country_rule_change_applies_to_the_next_send(
    sms: Any, caller: Caller, default_tenant: Any
) -> None:
    sms.send(caller, phone=GB)
    rule(default_tenant, "GB", CountryRule.Action.BLOCK)
    with pytest.raises(CountryNotAllowed):
        sms.send(caller, phone=GB)


# --- daily high-cost cap --------------------------------------------------------------------


@pytest.fixture
def capped(default_tenant: Any) -> Any:
    """A cap of 1.00 a day; GB costs 0.50 and is high-cost, US costs 0.50 and is not."""
    policy_of(default_tenant, daily_high_cost_cap=Decimal("1.00"))
    rule(default_tenant, "GB", CountryRule.Action.PRICE_ONLY, "0.50", high=True)
    rule(default_tenant, "US", CountryRule.Action.PRICE_ONLY, "0.50", high=False)
    return default_tenant


def test_spend_reaching_the_cap_exactly_is_allowed_and_beyond_is_refused(
    sms: Any, caller: Caller, capped: Any
) -> None:
    sms.send(caller, phone=GB, deliver=False)
    sms.send(caller, phone=GB, deliver=False)  # 1.00 == cap

    with pytest.raises(CostCapReached) as raised:
        sms.send(caller, phone=GB)
    assert raised.value.code == "cost_cap_reached"


def test_a_send_that_would_cross_the_cap_is_refused(sms: Any, caller: Caller, capped: Any) -> None:
    policy_of(capped, daily_high_cost_cap=Decimal("0.99"))
    sms.send(caller, phone=GB, deliver=False)

    with pytest.raises(CostCapReached):
        sms.send(caller, phone=GB)


def test_sends_that_are_not_high_cost_neither_count_nor_are_capped(
    sms: Any, caller: Caller, capped: Any
) -> None:
    for _ in range(4):
        sms.send(caller, phone=US, deliver=False)  # 2.00 spent, none of it high-cost
    sms.send(caller, phone=GB, deliver=False)
    sms.send(caller, phone=GB, deliver=False)
    with pytest.raises(CostCapReached):
        sms.send(caller, phone=GB)
    sms.send(caller, phone=US)


def test_the_cap_counts_the_whole_tenant_not_one_user(
    sms: Any, caller: Caller, capped: Any, other_user: Any
) -> None:
    sms.send(caller, phone=GB, deliver=False)
    sms.send(Caller.for_user(other_user), phone=GB, deliver=False)
    with pytest.raises(CostCapReached):
        sms.send(caller, phone=GB)


def test_the_cap_resets_at_midnight_utc(
    sms: Any, caller: Caller, capped: Any, clock: Any, settings: Any
) -> None:
    settings.TIME_ZONE = "Pacific/Auckland"  # the site's zone must not move the day
    clock.move_to(at(23, 0))
    sms.send(caller, phone=GB, deliver=False)
    sms.send(caller, phone=GB, deliver=False)

    clock.move_to(at(23, 59, 59))
    with pytest.raises(CostCapReached):
        sms.send(caller, phone=GB)
    clock.move_to(datetime(2030, 1, 16, 0, 0, tzinfo=UTC))
    sms.send(caller, phone=GB, deliver=False)
    sms.send(caller, phone=GB, deliver=False)
    with pytest.raises(CostCapReached):
        sms.send(caller, phone=GB)


def test_without_a_cap_high_cost_sends_are_not_limited(
    sms: Any, caller: Caller, capped: Any
) -> None:
    policy_of(capped, daily_high_cost_cap=None)
    for _ in range(4):
        sms.send(caller, phone=GB, deliver=False)


# --- order of the checks --------------------------------------------------------------------


def test_the_gate_checks_lockout_then_rate_then_ip_then_country_then_cost(
    sms: Any, caller: Caller, other_user: Any, default_tenant: Any, clock: Any
) -> None:
    policy_of(
        default_tenant,
        enrolment_sms_per_hour=1,
        ip_sms_per_hour=2,
        daily_high_cost_cap=Decimal("0.50"),
    )
    rule(default_tenant, "GB", CountryRule.Action.BLOCK, "1.00", high=True)
    neighbour = Caller(user=other_user, tenant=default_tenant, ip=IP)
    from_ip = Caller(user=caller.user, tenant=default_tenant, ip=IP)
    sms.send(caller, purpose=ENROLMENT, deliver=False)  # 10:00, no IP: fills alice's limit
    clock.move_to(at(10, 10))
    sms.send(neighbour, deliver=False)
    clock.move_to(at(10, 30))
    sms.send(neighbour, deliver=False)  # the IP's two sends, freed from 11:10
    clock.move_to(at(10, 40))
    state = user_state(caller.user)
    state.locked_until = at(10, 45)
    state.save()

    def refusal() -> Exception:
        with pytest.raises((Locked, RateLimited, CountryNotAllowed, CostCapReached)) as raised:
            sms.send(from_ip, purpose=ENROLMENT, phone=GB)
        return raised.value

    first = refusal()
    assert (first.code, first.retry_after) == ("locked", 300)
    state.locked_until = None
    state.save()
    second = refusal()
    assert (second.code, second.retry_after) == ("rate_limited", 20 * 60)  # the user's own
    policy_of(default_tenant, enrolment_sms_per_hour=5)
    third = refusal()
    assert (third.code, third.retry_after) == ("rate_limited", 30 * 60)  # the IP's
    policy_of(default_tenant, ip_sms_per_hour=20)
    assert refusal().code == "country_not_allowed"
    CountryRule.objects.filter(country="GB").update(action=CountryRule.Action.PRICE_ONLY)
    assert refusal().code == "cost_cap_reached"
    policy_of(default_tenant, daily_high_cost_cap=Decimal("1.00"))
    sms.send(from_ip, purpose=ENROLMENT, phone=GB)


# --- what a refusal leaves ------------------------------------------------------------------


def _arrange_locked(user: Any, tenant: Any) -> None:
    state = user_state(user)
    state.locked_until = datetime(2100, 1, 1, tzinfo=UTC)
    state.save()


def _arrange_rate(user: Any, tenant: Any) -> None:
    policy_of(tenant, enrolment_sms_per_hour=1)
    codes.issue_code(
        Caller.for_user(user),
        purpose=ENROLMENT,
        subject_id=uuid.uuid4(),
        destination=parse_e164(US_2),
    )


def _arrange_ip(user: Any, tenant: Any) -> None:
    policy_of(tenant, ip_sms_per_hour=1)
    neighbour = Caller(user=UserFactory(username="neighbour"), tenant=tenant, ip=IP)
    codes.issue_code(
        neighbour,
        purpose=CodePurpose.AUTHENTICATION,
        subject_id=uuid.uuid4(),
        destination=parse_e164(US_2),
    )


def _arrange_country(user: Any, tenant: Any) -> None:
    rule(tenant, "US", CountryRule.Action.BLOCK)


def _arrange_cost(user: Any, tenant: Any) -> None:
    policy_of(tenant, daily_high_cost_cap=Decimal("0.10"))
    rule(tenant, "US", CountryRule.Action.PRICE_ONLY, "0.20", high=True)


@pytest.mark.parametrize(
    ("arrange", "failure_code"),
    [
        (_arrange_locked, "locked"),
        (_arrange_rate, "rate_limited"),
        (_arrange_ip, "rate_limited"),
        (_arrange_country, "country_not_allowed"),
        (_arrange_cost, "cost_cap_reached"),
    ],
)
def test_a_refused_enrolment_leaves_no_code_message_or_enrolment_and_is_audited(
    user: Any,
    default_tenant: Any,
    django_capture_on_commit_callbacks: Any,
    outbox: list[Any],
    arrange: Any,
    failure_code: str,
) -> None:
    arrange(user, default_tenant)
    codes_before, messages_before = SmsCode.objects.count(), SmsMessage.objects.count()
    request = RequestFactory().post("/", REMOTE_ADDR=IP)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises((Locked, RateLimited, CountryNotAllowed, CostCapReached)) as raised,
    ):
        enrolment.start_enrolment(user, US, request=request)

    assert raised.value.code == failure_code
    assert (SmsCode.objects.count(), SmsMessage.objects.count()) == (codes_before, messages_before)
    assert not PendingEnrolment.objects.filter(user=user, phone_last4="0100").exists()
    assert outbox == []
    event = AuditEvent.objects.get(event_type=EventType.SMS_REFUSED)
    assert (event.outcome, event.failure_code) == (Outcome.FAILURE, failure_code)
    assert (event.user, event.tenant, event.ip_address) == (user, default_tenant, IP)
    assert event.phone_last4 == "0100"
    sent = AuditEvent.objects.filter(event_type=EventType.SMS_SENT, phone_last4="0100")
    assert not sent.exists()


def test_a_refused_resend_is_audited_with_its_enrolment(
    user: Any, django_capture_on_commit_callbacks: Any, default_tenant: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pending, _issued = enrolment.start_enrolment(user, US)
    rule(default_tenant, "US", CountryRule.Action.BLOCK)

    with pytest.raises(CountryNotAllowed):
        enrolment.resend_enrolment_code(user, pending.id)

    assert SmsCode.objects.filter(subject_id=pending.id).count() == 1
    event = AuditEvent.objects.get(event_type=EventType.SMS_REFUSED)
    assert (event.failure_code, event.subject_id) == ("country_not_allowed", pending.id)


def test_the_cap_reads_the_days_running_total_and_a_refused_send_adds_nothing(
    sms: Any, caller: Caller, capped: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from intelliauth_sms.models import DailySpend, SmsMessage

    sms.send(caller, phone=GB, deliver=False)
    with CaptureQueriesContext(connection) as captured:
        sms.send(caller, phone=GB, deliver=False)
    statements = [q["sql"].lower() for q in captured.captured_queries]
    # The cap no longer sums the day's messages: one row, raised by each high-cost send.
    # (The rolling windows do sum, over the last hour, CASE … THEN 1: counts, not costs.)
    assert not any("sum(" in s and "unit_cost" in s and "smsmessage" in s for s in statements)
    [row] = DailySpend.objects.filter(tenant=capped)
    assert row.high_cost_spend == Decimal("1.0000")

    with pytest.raises(CostCapReached):
        sms.send(caller, phone=GB)

    row.refresh_from_db()
    assert row.high_cost_spend == Decimal("1.0000")  # rolled back with the refused send
    assert SmsMessage.objects.filter(high_cost=True).count() == 2


def test_a_tenant_without_its_policy_row_gets_the_defaults_and_the_send_goes_out(
    sms: Any, caller: Caller, default_tenant: Any
) -> None:
    from intelliauth_sms.models import TenantPolicy

    TenantPolicy.objects.filter(tenant=default_tenant).delete()

    sent = sms.send(caller, phone=GB)

    assert sent.code is not None
    assert TenantPolicy.objects.get(tenant=default_tenant).code_ttl_seconds == 300
