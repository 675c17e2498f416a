"""``gate_reads``: the gate's plain-SQL reads give what the ORM gives for the same lookups
(run on SQLite and, in the services tier, on PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from intelliauth_sms.models import CodePurpose, CountryRule, SmsMessage, Tenant
from intelliauth_sms.services.context import Caller
from intelliauth_sms.services.gate_reads import Window, count_windows, read_policy_for_send
from intelliauth_sms.services.policy import price_for
from tests.core.conftest import IP, US, US_2, SmsDriver

pytestmark = pytest.mark.django_db


def test_each_window_counts_what_its_orm_lookups_count(sms: SmsDriver, user: Any) -> None:
    tenant = Tenant.objects.get(slug="default")
    with_address = Caller(user=user, tenant=tenant, ip=IP)
    without = Caller(user=user, tenant=tenant)
    sms.send(with_address, phone=US, deliver=False)
    sms.send(with_address, phone=US_2, deliver=False, purpose=CodePurpose.RECOVERY)
    sms.send(without, phone=US, deliver=False, purpose=CodePurpose.ENROLMENT)
    latest = SmsMessage.objects.latest("created_at")
    windows = {
        "user": Window({"user_id": user.pk, "purpose__in": ("authentication", "recovery")}, 5),
        "address": Window({"client_ip": IP}, 5),
        "no_address": Window({"client_ip__isnull": True}, 5),
        "number": Window({"phone_hash": latest.phone_hash}, 5),
        "since_latest": Window({"tenant_id": tenant.pk, "created_at__gt": latest.created_at}, 5),
        "nobody": Window({"user_id": user.pk + 1000}, None),
    }

    counts = count_windows(windows, since=timezone.now() - timedelta(hours=1))

    expected = {name: SmsMessage.objects.filter(w.sends).count() for name, w in windows.items()}
    assert counts == expected
    assert counts == {
        "user": 2,
        "address": 2,
        "no_address": 1,
        "number": 2,
        "since_latest": 0,
        "nobody": 0,
    }
    # And the hour: nothing counts from before ``since``.
    assert set(count_windows(windows, since=timezone.now()).values()) == {0}


def test_the_policy_comes_with_its_rule_for_the_country_and_the_allow_list_mode() -> None:
    tenant = Tenant.objects.get(slug="default")
    CountryRule.objects.create(
        tenant=tenant, country="GB", unit_cost=Decimal("0.2500"), high_cost=True
    )

    gb = read_policy_for_send(tenant.pk, "GB")
    us = read_policy_for_send(tenant.pk, "US")

    assert gb is not None and us is not None
    assert gb.pk == tenant.policy.pk and gb.tenant_id == tenant.pk
    gb_price, gb_allowed = price_for(gb)
    assert (gb_price.unit_cost, gb_price.high_cost, gb_allowed) == (Decimal("0.2500"), True, True)
    us_price, us_allowed = price_for(us)
    assert (us_price.unit_cost, us_price.high_cost, us_allowed) == (Decimal("0"), False, True)
    assert us.rule_action is None and not us.allow_list_mode

    CountryRule.objects.create(tenant=tenant, country="DE", action=CountryRule.Action.ALLOW)
    us = read_policy_for_send(tenant.pk, "US")
    assert us is not None and us.allow_list_mode and price_for(us)[1] is False
    assert read_policy_for_send(tenant.pk + 1000, "US") is None
