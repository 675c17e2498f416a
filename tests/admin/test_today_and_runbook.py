"""The read-only Today page of a tenant and the MFA recovery runbook with its links into the
audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from intelliauth_sms.models import (
    CodePurpose,
    CountryRule,
    EventType,
    Outcome,
    SmsCode,
    SmsMessage,
    TenantPolicy,
)
from intelliauth_sms.phone import parse_e164
from intelliauth_sms.services import audit
from intelliauth_sms.services.spend import add_high_cost_spend
from intelliauth_sms.services.today import today_summary
from tests.admin.conftest import ADMIN, body, shows_tenant_b

pytestmark = pytest.mark.django_db

NOON = datetime(2030, 3, 5, 12, 0, tzinfo=UTC)


def high_cost_send(side: Any, cost: str, when: datetime) -> None:
    code = SmsCode.objects.create(
        user=side.member,
        tenant=side.tenant,
        purpose=CodePurpose.ENROLMENT,
        subject_id=side.factor.pk,
        code_hash="x" * 64,
        created_at=when,
        expires_at=when + timedelta(minutes=5),
    )
    message = SmsMessage(
        code=code,
        user=side.member,
        tenant=side.tenant,
        purpose=CodePurpose.ENROLMENT,
        subject_id=side.factor.pk,
        unit_cost=Decimal(cost),
        high_cost=True,
        created_at=when,
    )
    message.set_phone(parse_e164("+447400123456"))
    message.save()
    add_high_cost_spend(side.tenant, when, Decimal(cost))  # as the gate records a send


def test_today_counts_sends_refusals_lockouts_spend_and_recovery(side_a: Any, side_b: Any) -> None:
    with time_machine.travel(NOON - timedelta(days=1)):
        audit.record(EventType.SMS_SENT, user=side_a.member, tenant=side_a.tenant)  # yesterday
    with time_machine.travel(NOON - timedelta(hours=2)):
        for _ in range(3):
            audit.record(EventType.SMS_SENT, user=side_a.member, tenant=side_a.tenant)
        for code in ("rate_limited", "rate_limited", "cost_cap_reached"):
            audit.record(
                EventType.SMS_REFUSED,
                user=side_a.member,
                tenant=side_a.tenant,
                outcome=Outcome.FAILURE,
                failure_code=code,
            )
        audit.record(
            EventType.CODE_CHECKED,
            user=side_a.member,
            tenant=side_a.tenant,
            outcome=Outcome.FAILURE,
            failure_code="invalid_code",
        )
        audit.record(
            EventType.RECOVERY_REQUESTED,
            user=side_a.member,
            tenant=side_a.tenant,
            outcome=Outcome.FAILURE,
            failure_code="invalid_credentials",
        )
        audit.record(EventType.SMS_DISABLED, user=side_a.member, tenant=side_a.tenant)
        high_cost_send(side_a, "0.30", NOON - timedelta(hours=2))
        high_cost_send(side_b, "9.00", NOON - timedelta(hours=2))  # another tenant's spend
    TenantPolicy.objects.filter(tenant=side_a.tenant).update(daily_high_cost_cap=Decimal("1.00"))

    with time_machine.travel(NOON):
        summary = today_summary(side_a.tenant)

    # The fixture's events were recorded "now" (not today in 2030): only today's count.
    assert summary.since == datetime(2030, 3, 5, tzinfo=UTC)
    assert summary.sends == 3
    assert summary.refusals == [("rate_limited", 2), ("cost_cap_reached", 1)]
    assert summary.failed_checks == [("invalid_code", 1)]
    assert summary.sms_disabled == 1
    assert (summary.recovery_events, summary.recovery_failures) == (1, 1)
    assert summary.high_cost_spend == Decimal("0.30")
    assert summary.cap_used_percent == 30


def test_the_today_page_shows_the_tenants_day_with_links_for_support(
    side_a: Any, side_b: Any, login: Any
) -> None:
    CountryRule.objects.create(tenant=side_a.tenant, country="GB", action="block")
    page = login(side_a.support).get(f"{ADMIN}/tenant/{side_a.tenant.pk}/today/")

    html = body(page)
    assert page.status_code == 200
    assert "Today in Acme" in html
    assert "country_not_allowed" in html and "the country rules refused the destination" in html
    assert "1 locked out now" in html
    assert "No daily cap." in html
    assert "•••• 0100" in html  # the recovery event, masked
    assert not shows_tenant_b(html)
    refusals = page.context["links"]["refusals"]["country_not_allowed"]
    assert refusals.startswith(f"{ADMIN}/auditevent/?")
    followed = login(side_a.support).get(refusals)
    assert [e.failure_code for e in followed.context["cl"].result_list] == ["country_not_allowed"]


def test_tenant_admins_see_today_without_links_into_the_audit_trail(
    side_a: Any, login: Any
) -> None:
    page = login(side_a.admin).get(f"{ADMIN}/tenant/today/", follow=True)
    assert page.redirect_chain[-1][0] == f"{ADMIN}/tenant/{side_a.tenant.pk}/today/"
    assert page.context["links"] == {}
    assert "/auditevent/" not in body(page)
    assert f"{ADMIN}/tenant/{side_a.tenant.pk}/change/" in body(page)


def test_the_runbook_walks_through_a_recovery_review_with_filtered_links(
    side_a: Any, side_b: Any, login: Any
) -> None:
    client = login(side_a.support)
    page = client.get(f"{ADMIN}/tenant/runbook/")
    html = body(page)
    assert page.status_code == 200
    assert "MFA recovery runbook" in html
    assert "social-engineering" in html
    assert "independent channel" in html
    links = page.context["links"]
    recovery = client.get(links["recovery"])
    assert [e.event_type for e in recovery.context["cl"].result_list] == ["recovery_requested"]
    for name, url in links.items():
        followed = client.get(url)
        assert followed.status_code == 200, (name, url)
        assert not shows_tenant_b(body(followed)), name


def test_the_runbook_links_to_who_changed_the_recovery_policy(side_a: Any, login: Any) -> None:
    audit.record(
        EventType.POLICY_CHANGED,
        actor=side_a.admin,
        tenant=side_a.tenant,
        detail={
            "target": "tenant_policy",
            "field": "allow_sms_recovery",
            "old": False,
            "new": True,
        },
    )
    audit.record(
        EventType.POLICY_CHANGED,
        actor=side_a.admin,
        tenant=side_a.tenant,
        detail={"target": "tenant_policy", "field": "ip_sms_per_hour", "old": 20, "new": 30},
    )
    client = login(side_a.support)
    url = client.get(f"{ADMIN}/tenant/runbook/").context["links"]["recovery_policy"]
    events = client.get(url).context["cl"].result_list
    assert [e.detail["field"] for e in events] == ["allow_sms_recovery"]


def test_the_runbook_is_open_to_tenant_admins_without_audit_links(side_a: Any, login: Any) -> None:
    page = login(side_a.admin).get(f"{ADMIN}/tenant/runbook/")
    assert page.status_code == 200
    assert page.context["links"] == {}
    assert "/auditevent/" not in body(page)


def test_today_for_a_superuser_lists_every_tenant(
    side_a: Any, side_b: Any, login: Any, superuser: Any
) -> None:
    page = body(login(superuser).get(f"{ADMIN}/tenant/today/"))
    assert "Acme" in page and "Bee Corp" in page
    assert login(superuser).get(f"{ADMIN}/tenant/999999/today/").status_code == 404


def test_today_counts_only_the_tenants_locked_users(side_a: Any, side_b: Any) -> None:
    summary = today_summary(side_a.tenant, timezone.now())
    assert summary.locked_now == 1  # side A's member, not side B's
