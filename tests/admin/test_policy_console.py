"""A tenant admin edits the policy and country rules: guide help text on each field,
validation that refuses nonsense, and a ``policy_changed`` event per changed value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from intelliauth_sms.admin.forms import CountryRuleForm, TenantPolicyForm
from intelliauth_sms.exceptions import CountryNotAllowed
from intelliauth_sms.models import AuditEvent, CountryRule, EventType, TenantPolicy
from intelliauth_sms.services.enrolment import start_enrolment
from tests.admin.conftest import ADMIN, body, management_data
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def edit(side_a: Any, login: Any) -> Any:
    """POST the tenant's change form with some values changed; returns the response."""
    client = login(side_a.admin)
    url = f"{ADMIN}/tenant/{side_a.tenant.pk}/change/"

    def post(**changes: Any) -> Any:
        data = management_data(client.get(url))
        for key, value in changes.items():
            data[key.replace("__", "-")] = value
        return client.post(url, data)

    return post


def policy_events() -> list[dict[str, Any]]:
    return [
        {**e.detail, "actor": e.actor.username, "tenant": e.tenant.slug}
        for e in AuditEvent.objects.filter(event_type=EventType.POLICY_CHANGED).order_by("id")
    ]


def errors(response: Any) -> str:
    assert response.status_code == 200, "the form was accepted"
    return body(response)


def test_each_policy_field_carries_the_guides_help_text(side_a: Any, login: Any) -> None:
    page = body(login(side_a.admin).get(f"{ADMIN}/tenant/{side_a.tenant.pk}/change/"))
    for phrase in (
        "Per-user enrolment rate",
        "Per-user authentication rate",
        "Defends against attackers walking phone numbers",
        "burns the current code and triggers a brief lockout",
        "until support unlocks them",
        "from 30 seconds to 10 minutes",
        "block sends to high-cost destinations",
        "verified backup phone",
        "security answers as well as the password",
        "The defaults are permissive; tighten them once you",
        "Allow: only allow-listed countries receive SMS",
        "Per-user sign-in rate across flows",
        "Per-number rate",
        "SMS-pumping breaker: when a number prefix",
    ):
        assert phrase in page, phrase


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("enrolment_sms_per_hour", "-1", "zero or a negative limit"),
        ("auth_sms_per_hour", "0", "zero or a negative limit"),
        ("ip_sms_per_hour", "-20", "zero or a negative limit"),
        ("max_failed_attempts", "-5", "from 1 to 100"),
        ("lockout_minutes", "-15", "from 1 minute to 24 hours"),
        ("disable_after_failures", "101", "from 1 to 100"),
        ("code_ttl_seconds", "29", "between 30 seconds and 10 minutes"),
        ("code_ttl_seconds", "601", "between 30 seconds and 10 minutes"),
        ("code_ttl_seconds", "900", "between 30 seconds and 10 minutes"),
        ("code_ttl_seconds", "-300", "between 30 seconds and 10 minutes"),
        ("daily_high_cost_cap", "-0.01", "cannot be negative"),
        ("user_auth_sms_per_hour", "0", "zero or a negative limit"),
        ("destination_sms_per_hour", "-10", "zero or a negative limit"),
        ("pumping_protection", "shrug", "Select a valid choice"),
        ("pumping_protection", "", "This field is required"),
    ],
)
def test_nonsense_limits_are_refused_with_a_clear_message(
    field: str, value: str, message: str, side_a: Any, edit: Any
) -> None:
    page = errors(edit(**{f"policy__0__{field}": value}))
    assert message in page
    policy = TenantPolicy.objects.get(tenant=side_a.tenant)
    assert str(getattr(policy, field)) != value
    assert policy_events() == []


def test_the_pumping_breaker_mode_is_changed_and_recorded(side_a: Any, edit: Any) -> None:
    response = edit(
        policy__0__pumping_protection="monitor", policy__0__destination_sms_per_hour="3"
    )
    assert response.status_code == 302
    policy = TenantPolicy.objects.get(tenant=side_a.tenant)
    assert (policy.pumping_protection, policy.destination_sms_per_hour) == ("monitor", 3)
    changed = {e["field"]: (e["old"], e["new"]) for e in policy_events()}
    assert changed == {
        "pumping_protection": ("enforce", "monitor"),
        "destination_sms_per_hour": (10, 3),
    }


def test_the_hard_cap_cannot_come_before_the_first_lockout(edit: Any) -> None:
    page = errors(edit(policy__0__max_failed_attempts="10", policy__0__disable_after_failures="5"))
    assert "SMS would be disabled before the first lockout" in page


def test_the_ttl_bounds_themselves_are_accepted() -> None:
    for ttl in ("30", "600"):
        form = TenantPolicyForm(
            data={**TenantPolicyForm(instance=TenantPolicy()).initial, "code_ttl_seconds": ttl}
        )
        form.data = {k: ("" if v is None else v) for k, v in form.data.items()}
        assert "code_ttl_seconds" not in form.errors, form.errors


@pytest.mark.parametrize(
    ("country", "message"),
    [
        ("XX", "is not a country code"),
        ("ZZ", "is not a country code"),
        ("001", "at most 2 characters"),
        ("U", "is not a country code"),
        ("UK", "use GB"),
        ("12", "is not a country code"),
    ],
)
def test_unknown_country_codes_are_refused(
    country: str, message: str, side_a: Any, edit: Any
) -> None:
    page = errors(
        edit(
            country_rules__TOTAL_FORMS="1",
            country_rules__0__country=country,
            country_rules__0__action="block",
            country_rules__0__unit_cost="0",
        )
    )
    assert message in page
    assert not CountryRule.objects.filter(tenant=side_a.tenant).exists()


def test_country_codes_are_normalised_to_upper_case() -> None:
    form = CountryRuleForm(data={"country": " gb ", "action": "block", "unit_cost": "0"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["country"] == "GB"


def test_an_allow_and_a_block_rule_for_one_country_are_refused(side_a: Any, edit: Any) -> None:
    page = errors(
        edit(
            country_rules__TOTAL_FORMS="2",
            country_rules__0__country="GB",
            country_rules__0__action="allow",
            country_rules__0__unit_cost="0",
            country_rules__1__country="gb",
            country_rules__1__action="block",
            country_rules__1__unit_cost="0",
        )
    )
    assert "GB has both an allow rule and a block rule" in page
    assert not CountryRule.objects.filter(tenant=side_a.tenant).exists()


def test_two_rules_for_one_country_are_refused(side_a: Any, edit: Any) -> None:
    page = errors(
        edit(
            country_rules__TOTAL_FORMS="2",
            country_rules__0__country="DE",
            country_rules__0__action="",
            country_rules__0__unit_cost="0.05",
            country_rules__1__country="DE",
            country_rules__1__action="block",
            country_rules__1__unit_cost="0",
        )
    )
    assert "DE has more than one rule" in page


def test_a_negative_price_is_refused(edit: Any) -> None:
    page = errors(
        edit(
            country_rules__TOTAL_FORMS="1",
            country_rules__0__country="DE",
            country_rules__0__action="",
            country_rules__0__unit_cost="-1",
        )
    )
    assert "A price cannot be negative" in page


def test_a_policy_change_records_who_changed_which_field_from_what_to_what(
    side_a: Any, edit: Any
) -> None:
    response = edit(policy__0__ip_sms_per_hour="50", policy__0__code_ttl_seconds="600")

    assert response.status_code == 302
    policy = TenantPolicy.objects.get(tenant=side_a.tenant)
    assert (policy.ip_sms_per_hour, policy.code_ttl_seconds) == (50, 600)
    assert policy_events() == [
        {
            "target": "tenant_policy",
            "field": "ip_sms_per_hour",
            "old": 20,
            "new": 50,
            "actor": "ay-admin",
            "tenant": "acme",
        },
        {
            "target": "tenant_policy",
            "field": "code_ttl_seconds",
            "old": 300,
            "new": 600,
            "actor": "ay-admin",
            "tenant": "acme",
        },
    ]


def test_saving_without_a_change_records_nothing(edit: Any) -> None:
    assert edit().status_code == 302
    assert policy_events() == []


def test_country_rules_added_changed_and_deleted_are_each_recorded(side_a: Any, edit: Any) -> None:
    assert (
        edit(
            country_rules__TOTAL_FORMS="1",
            country_rules__0__country="gb",
            country_rules__0__action="block",
            country_rules__0__unit_cost="0.0400",
            country_rules__0__high_cost="on",
        ).status_code
        == 302
    )
    rule = CountryRule.objects.get(tenant=side_a.tenant)
    assert (rule.country, rule.action, rule.unit_cost, rule.high_cost) == (
        "GB",
        "block",
        Decimal("0.04"),
        True,
    )
    assert edit(country_rules__0__action="").status_code == 302
    assert edit(country_rules__0__DELETE="on").status_code == 302
    assert not CountryRule.objects.filter(tenant=side_a.tenant).exists()

    row = {"country": "GB", "action": "block", "unit_cost": "0.0400", "high_cost": True}
    assert [
        (e["target"], e.get("key"), e["field"], e["old"], e["new"]) for e in policy_events()
    ] == [
        ("country_rule", "GB", "row", None, row),
        ("country_rule", "GB", "action", "block", ""),
        ("country_rule", "GB", "row", {**row, "action": ""}, None),
    ]
    assert {e["actor"] for e in policy_events()} == {"ay-admin"}


def test_policy_changes_show_in_the_audit_trail_for_support(
    side_a: Any, edit: Any, login: Any
) -> None:
    edit(policy__0__enrolment_sms_per_hour="50")
    page = body(
        login(side_a.support).get(f"{ADMIN}/auditevent/", {"event_type__exact": "policy_changed"})
    )
    assert "tenant_policy: enrolment_sms_per_hour 5 → 50" in page
    assert "ay-admin" in page


def test_a_block_rule_saved_in_the_console_refuses_the_next_enrolment(
    side_a: Any, edit: Any
) -> None:
    assert (
        edit(
            country_rules__TOTAL_FORMS="1",
            country_rules__0__country="GB",
            country_rules__0__action="block",
            country_rules__0__unit_cost="0",
        ).status_code
        == 302
    )
    newcomer = UserFactory(username="ay-newcomer")
    MembershipFactory(user=newcomer, tenant=side_a.tenant)
    with pytest.raises(CountryNotAllowed):
        start_enrolment(newcomer, "+447400123456")
    start_enrolment(newcomer, "+14155550123")  # other countries still receive SMS


def test_superuser_membership_changes_are_recorded(side_a: Any, login: Any, superuser: Any) -> None:
    client = login(superuser)
    url = f"{ADMIN}/tenant/{side_a.tenant.pk}/change/"
    data = management_data(client.get(url))
    index = next(
        k.split("-")[1]
        for k, v in data.items()
        if k.startswith("memberships-") and k.endswith("-user") and v == side_a.support.pk
    )
    data[f"memberships-{index}-role"] = "admin"
    data["name"] = "Acme Inc"

    assert client.post(url, data).status_code == 302

    changes = [(e["target"], e.get("key"), e["field"], e["old"], e["new"]) for e in policy_events()]
    assert ("tenant", "acme", "name", "Acme", "Acme Inc") in changes
    assert ("membership", "ay-support", "role", "support", "admin") in changes
    assert {e["actor"] for e in policy_events()} == {"root"}


def test_only_superusers_manage_memberships_and_changes_are_recorded(
    side_a: Any, side_b: Any, login: Any, superuser: Any
) -> None:
    for staff in (side_a.admin, side_a.support):
        assert login(staff).get(f"{ADMIN}/tenantmembership/").status_code == 403
    client = login(superuser)
    membership = side_a.member.sms_memberships.get()
    url = f"{ADMIN}/tenantmembership/{membership.pk}/change/"
    changed = client.post(
        url, {"user": side_a.member.pk, "tenant": side_b.tenant.pk, "role": "support"}
    )
    assert changed.status_code == 302
    assert (
        client.post(
            f"{ADMIN}/tenantmembership/{membership.pk}/delete/", {"post": "yes"}
        ).status_code
        == 302
    )

    changes = [(e["target"], e["field"], e["old"], e["new"], e["tenant"]) for e in policy_events()]
    assert changes == [
        ("membership", "tenant", "Acme", "Bee Corp", "acme"),
        ("membership", "role", "member", "support", "acme"),
        ("membership", "tenant", "Acme", "Bee Corp", "bee-corp"),
        ("membership", "role", "member", "support", "bee-corp"),
        ("membership", "row", {"user": "ay-member", "role": "support"}, None, "bee-corp"),
    ]
