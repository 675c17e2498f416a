"""The console's Destinations page and the breaker's actions (issue 10)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from intelliauth_sms.exceptions import DestinationPaused
from intelliauth_sms.models import (
    AuditEvent,
    CountryRule,
    EventType,
    PrefixBreaker,
    TenantMembership,
)
from intelliauth_sms.phone import parse_e164
from intelliauth_sms.services import audit, codes
from intelliauth_sms.services.context import Caller
from tests.admin.conftest import ADMIN, body
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PREFIX = "4474001"


def send(tenant: Any, phone: str, n: int) -> bool:
    """One send for a new member of ``tenant``; ``False`` when the gate refused it."""
    user = UserFactory(username=f"{tenant.slug}-sender-{n}")
    MembershipFactory(user=user, tenant=tenant, role=TenantMembership.Role.MEMBER)
    caller = Caller.for_user(user)
    destination = parse_e164(phone)
    try:
        with (
            audit.refusals_recorded(EventType.SMS_REFUSED, caller, phone_last4=destination.last4),
            transaction.atomic(),
        ):
            codes.issue_code(
                caller, purpose="enrolment", subject_id=user_uuid(n), destination=destination
            )
    except DestinationPaused:
        return False
    return True


def user_uuid(n: int) -> Any:
    import uuid

    return uuid.UUID(int=n + 1)


@pytest.fixture
def tripped(side_a: Any) -> PrefixBreaker:
    """Side A's tenant pumped +44 7400 1…: 30 unverified sends, then a paused one."""
    CountryRule.objects.create(tenant=side_a.tenant, country="GB", unit_cost="0.0500")
    results = [send(side_a.tenant, f"+4474001{i:05d}", i) for i in range(31)]
    assert results == [True] * 30 + [False]
    send(side_a.tenant, "+14155550123", 99)
    return PrefixBreaker.objects.get(tenant=side_a.tenant, prefix=PREFIX)


def page_url(tenant: Any) -> str:
    return f"{ADMIN}/tenant/{tenant.pk}/destinations/"


def action_url(tenant: Any, breaker: Any, action: str) -> str:
    return f"{ADMIN}/tenant/{tenant.pk}/destinations/{breaker.pk}/{action}/"


def test_the_page_shows_countries_the_trip_and_a_chart(
    tripped: PrefixBreaker, side_a: Any, login: Any
) -> None:
    page = body(login(side_a.admin).get(page_url(side_a.tenant)))

    assert "+4474001…" in page and "Paused until" in page and 'data-state="paused"' in page
    assert 'data-country="GB"' in page and 'data-country="US"' in page
    assert "<svg" in page and "iasms-bar" in page
    assert 'data-code="destination_paused"' in page
    assert "<code>destination_paused</code> 1" in page  # on the GB row: the pumped country
    assert "1.50" in page  # 30 GB sends at 0.05
    assert "7911123456" not in page


def test_support_reads_it_but_cannot_act(tripped: PrefixBreaker, side_a: Any, login: Any) -> None:
    client = login(side_a.support)
    assert client.get(page_url(side_a.tenant)).status_code == 200
    assert "iasms-clear" not in body(client.get(page_url(side_a.tenant)))
    assert client.post(action_url(side_a.tenant, tripped, "clear")).status_code == 404
    tripped.refresh_from_db()
    assert tripped.is_paused


def test_support_follows_a_prefix_to_its_trip_and_clearance_events(
    tripped: PrefixBreaker, side_a: Any, login: Any
) -> None:
    login(side_a.admin).post(action_url(side_a.tenant, tripped, "clear"))
    client = login(side_a.support)
    page = body(client.get(page_url(side_a.tenant)))
    link = re.search(r'href="([^"]+)" class="iasms-breaker-events"', page)
    assert link is not None
    listed = client.get(html.unescape(link.group(1))).context["cl"].result_list
    assert sorted(e.event_type for e in listed) == [
        "pumping_breaker_cleared",
        "pumping_breaker_tripped",
    ]
    # Tenant admins do not read the audit trail: no link for them.
    assert "iasms-breaker-events" not in body(login(side_a.admin).get(page_url(side_a.tenant)))


def test_a_tenant_admin_clears_a_trip_and_it_is_audited(
    tripped: PrefixBreaker, side_a: Any, login: Any
) -> None:
    client = login(side_a.admin)
    response = client.post(action_url(side_a.tenant, tripped, "clear"))
    assert response.status_code == 302 and response["Location"] == page_url(side_a.tenant)
    tripped.refresh_from_db()
    assert not tripped.is_paused and tripped.cleared_by == side_a.admin
    cleared = AuditEvent.objects.get(event_type="pumping_breaker_cleared")
    assert cleared.actor == side_a.admin and cleared.detail == {"prefix": PREFIX}
    assert send(side_a.tenant, "+447400100100", 200)  # the prefix takes sends again


def test_monitor_only_is_set_and_unset_and_recorded_as_a_policy_change(
    tripped: PrefixBreaker, side_a: Any, login: Any
) -> None:
    client = login(side_a.admin)
    url = action_url(side_a.tenant, tripped, "monitor")
    client.post(url, {"monitor_only": "1"})
    client.post(url, {"monitor_only": "1"})  # sent twice (a stale page): no second change
    tripped.refresh_from_db()
    assert tripped.monitor_only
    page = body(client.get(page_url(side_a.tenant)))
    assert 'data-state="monitoring"' in page and "sends go on" in page
    client.post(url, {"monitor_only": "0"})
    tripped.refresh_from_db()
    assert not tripped.monitor_only
    changes = AuditEvent.objects.filter(event_type="policy_changed").order_by("id")
    assert [c.detail["new"] for c in changes] == [True, False]


@pytest.mark.parametrize("data", [{}, {"monitor_only": "yes"}, {"monitor_only": "1\x00"}])
def test_a_malformed_monitor_form_answers_a_page_and_changes_nothing(
    data: dict[str, str], tripped: PrefixBreaker, side_a: Any, login: Any
) -> None:
    client = login(side_a.admin)
    response = client.post(action_url(side_a.tenant, tripped, "monitor"), data, follow=True)
    assert response.status_code == 200
    assert "Choose monitor only or enforce again." in body(response)
    tripped.refresh_from_db()
    assert not tripped.monitor_only
    assert not AuditEvent.objects.filter(event_type="policy_changed").exists()


def test_clearing_twice_records_one_clearance(
    tripped: PrefixBreaker, side_a: Any, login: Any
) -> None:
    client = login(side_a.admin)
    client.post(action_url(side_a.tenant, tripped, "clear"))
    response = client.post(action_url(side_a.tenant, tripped, "clear"), follow=True)
    assert "was not tripped" in body(response)
    assert AuditEvent.objects.filter(event_type="pumping_breaker_cleared").count() == 1


def test_in_monitor_mode_a_trip_shows_that_sends_go_on(
    tripped: PrefixBreaker, side_a: Any, login: Any
) -> None:
    side_a.tenant.policy.pumping_protection = "monitor"
    side_a.tenant.policy.save()
    page = body(login(side_a.admin).get(page_url(side_a.tenant)))
    assert 'data-state="monitoring"' in page and "Paused until" not in page


def test_another_tenant_sees_and_touches_nothing(
    tripped: PrefixBreaker, side_a: Any, side_b: Any, login: Any
) -> None:
    client = login(side_b.admin)
    assert client.get(page_url(side_a.tenant)).status_code == 404
    for action in ("clear", "monitor"):
        assert client.post(action_url(side_a.tenant, tripped, action)).status_code == 404
    # Its own page does not list A's breaker either, even by forging the URL.
    assert client.post(action_url(side_b.tenant, tripped, "clear")).status_code == 404
    assert PREFIX not in body(client.get(page_url(side_b.tenant)))
    tripped.refresh_from_db()
    assert tripped.is_paused and not tripped.monitor_only


@pytest.mark.parametrize("action", ["open", "%00", "clear/extra"])
def test_bad_actions_and_methods_answer_a_page(
    action: str, tripped: PrefixBreaker, side_a: Any, login: Any
) -> None:
    client = login(side_a.admin)
    # Unknown actions are 404; a deeper path falls to the admin's own catch-all redirect.
    assert client.post(action_url(side_a.tenant, tripped, action)).status_code in (302, 404)
    assert client.get(action_url(side_a.tenant, tripped, "clear")).status_code == 405
    assert (
        client.post(f"{ADMIN}/tenant/{side_a.tenant.pk}/destinations/999999/clear/").status_code
        == 404
    )
    tripped.refresh_from_db()
    assert tripped.is_paused


def test_the_page_runs_a_bounded_number_of_queries(
    tripped: PrefixBreaker, side_a: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    client = login(side_a.admin)
    client.get(page_url(side_a.tenant))
    with django_assert_max_num_queries(16):
        assert client.get(page_url(side_a.tenant)).status_code == 200


@pytest.mark.parametrize("role", ["admin", "support"])  # support's page has audit links
def test_the_query_count_does_not_grow_with_prefixes_and_countries(
    role: str, tripped: PrefixBreaker, side_a: Any, login: Any, django_assert_num_queries: Any
) -> None:
    client = login(getattr(side_a, role))
    client.get(page_url(side_a.tenant))
    with CaptureQueriesContext(connection) as before:
        client.get(page_url(side_a.tenant))
    # Ten more tripped prefixes and sends to three more countries.
    for i in range(10):
        PrefixBreaker.objects.create(
            tenant=side_a.tenant,
            prefix_hash=f"h{i}",
            prefix=f"49151{i:02d}",
            tripped_at=tripped.tripped_at,
        )
    for n, phone in enumerate(["+4915112345678", "+33612345678", "+819012345678"]):
        assert send(side_a.tenant, phone, 300 + n)
    with django_assert_num_queries(len(before.captured_queries)):
        page = body(client.get(page_url(side_a.tenant)))
    assert page.count('data-prefix="') == 11 and 'data-country="JP"' in page


def test_today_links_to_it_and_shows_the_trip(
    tripped: PrefixBreaker, side_a: Any, login: Any
) -> None:
    page = body(login(side_a.support).get(f"{ADMIN}/tenant/{side_a.tenant.pk}/today/"))
    assert page_url(side_a.tenant) in page
    assert "1 prefix tripped the SMS-pumping breaker" in page and "+4474001…" in page


def test_delivery_reports_show_per_country_next_to_the_conversion(side_a: Any, login: Any) -> None:
    from intelliauth_sms.models import MessageStatus, SmsMessage

    for n in range(4):
        assert send(side_a.tenant, f"+1415555{n:04d}", 200 + n)
    messages = list(SmsMessage.objects.filter(tenant=side_a.tenant).order_by("created_at"))
    SmsMessage.objects.filter(pk__in=[m.pk for m in messages[:2]]).update(
        status=MessageStatus.DELIVERED
    )
    SmsMessage.objects.filter(pk=messages[2].pk).update(status=MessageStatus.UNDELIVERED)

    page = body(login(side_a.admin).get(page_url(side_a.tenant)))

    row = re.search(r'<tr data-country="US">(.*?)</tr>', page, re.S)
    assert row, "no US row"
    delivered = re.findall(r'class="iasms-delivered">(\d+)<', row.group(1))
    not_delivered = re.findall(r'class="iasms-not-delivered">(\d+)<', row.group(1))
    assert delivered == ["2", "2"] and not_delivered == ["1", "1"]  # 24 hours, 7 days
