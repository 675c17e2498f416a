"""The tenant admin console in Chromium: a tenant admin blocks a country and the next
enrolment there is refused; support staff reveal a number with a reason and find the
audit event."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from intelliauth_sms.backends import locmem
from intelliauth_sms.models import AuditEvent, CountryRule, EventType, TenantMembership
from tests.browser.conftest import SCREENSHOTS
from tests.factories import MembershipFactory, SmsFactorFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
GB_MOBILE = "+447911123456"
ACCOUNT_URL = re.compile(r".*/account/$")
COUNTRY_REFUSED = "We can't send codes to phone numbers in this country."


@pytest.fixture
def acme(transactional_db: Any) -> Any:
    return TenantFactory(slug="acme", name="Acme")


def staff(tenant: Any, username: str, role: str) -> Any:
    user = UserFactory(username=username, is_staff=True)
    MembershipFactory(user=user, tenant=tenant, role=role)
    return user


def sign_in(page: Any, expect: Any, username: str, next_url: str = "") -> None:
    page.goto(f"/accounts/login/?next={next_url}" if next_url else "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#sign-in")
    if not next_url:
        expect(page).to_have_url(ACCOUNT_URL)


def test_a_tenant_admin_blocks_a_country_and_the_next_enrolment_there_is_refused(
    page: Any,
    browser: Any,
    live_server: Any,
    acme: Any,
    expect: Any,
    screenshot: Callable[[str], Any],
) -> None:
    staff(acme, "ada", TenantMembership.Role.ADMIN)
    bob = UserFactory(username="bob")
    MembershipFactory(user=bob, tenant=acme, role=TenantMembership.Role.MEMBER)

    sign_in(page, expect, "ada", "/admin/intelliauth_sms/tenant/")
    # A tenant admin of one tenant lands on its policy page.
    expect(page).to_have_url(re.compile(rf".*/admin/intelliauth_sms/tenant/{acme.pk}/change/$"))
    expect(page.locator("#content-main")).to_contain_text("Per-user enrolment rate")
    page.locator("#country_rules-group .add-row a").click()
    page.fill("#id_country_rules-0-country", "gb")
    page.select_option("#id_country_rules-0-action", "block")
    screenshot("40-admin-block-rule")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    screenshot("41-admin-block-rule-saved")

    page.goto("/admin/intelliauth_sms/tenant/today/")
    expect(page.locator("h1")).to_have_text("Today in Acme")
    expect(page.locator("#iasms-policy-changes")).to_contain_text(
        "country_rule GB: added (country=GB, action=block"
    )
    screenshot("47-admin-today")

    rule = CountryRule.objects.get(tenant=acme)
    assert (rule.country, rule.action) == ("GB", "block")
    change = AuditEvent.objects.get(event_type=EventType.POLICY_CHANGED)
    assert change.actor.username == "ada" and change.detail["key"] == "GB"

    # Bob, a user of that tenant, now tries to add a UK mobile on his account page.
    bob_context = browser.new_context(base_url=live_server.url)
    bob_page = bob_context.new_page()
    try:
        sign_in(bob_page, expect, "bob")
        bob_page.select_option("#country", "GB")
        bob_page.fill("#phone", "07400 123456")
        bob_page.click("#send-code")
        expect(bob_page.locator("#add-error")).to_have_text(COUNTRY_REFUSED)
        bob_page.screenshot(path=str(SCREENSHOTS / "42-enrolment-refused.png"), full_page=True)
    finally:
        bob_context.close()
    assert locmem.outbox == []
    refused = AuditEvent.objects.get(event_type=EventType.SMS_REFUSED)
    assert (refused.user, refused.failure_code, refused.tenant) == (
        bob,
        "country_not_allowed",
        acme,
    )


def test_support_reveals_a_number_with_a_reason_and_finds_the_audit_event(
    page: Any, acme: Any, expect: Any, screenshot: Callable[[str], Any]
) -> None:
    staff(acme, "sam", TenantMembership.Role.SUPPORT)
    bob = UserFactory(username="bob")
    MembershipFactory(user=bob, tenant=acme)
    SmsFactorFactory(user=bob, tenant=acme, phone=GB_MOBILE)

    sign_in(page, expect, "sam", "/admin/intelliauth_sms/smsfactor/")
    expect(page).to_have_url(re.compile(r".*/admin/intelliauth_sms/smsfactor/$"))
    expect(page.locator("#result_list")).to_contain_text("•••• 3456")
    expect(page.locator("body")).not_to_contain_text(GB_MOBILE[3:])
    page.locator("#result_list").get_by_role("link", name="•••• 3456").click()
    page.click("#iasms-reveal")
    expect(page.locator("#iasms-reveal-form")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(GB_MOBILE[3:])
    page.fill("#id_reason", "Ticket 4711: caller verified by email")
    screenshot("43-support-reveal-reason")
    page.click("#iasms-reveal-submit")

    expect(page.locator("#iasms-revealed-number")).to_have_text(GB_MOBILE)
    screenshot("44-support-revealed")

    page.click("#iasms-reveal-event")
    expect(page.locator("#content-main")).to_contain_text("Phone number revealed")
    expect(page.locator("#content-main")).to_contain_text("sam")
    expect(page.locator("#content-main")).to_contain_text("Ticket 4711: caller verified by email")
    expect(page.locator("#content-main")).to_contain_text("•••• 3456")
    expect(page.locator("body")).not_to_contain_text(GB_MOBILE[3:])
    screenshot("45-support-reveal-audit-event")

    # And from the audit trail's own filters.
    page.goto("/admin/intelliauth_sms/auditevent/")
    page.locator("#changelist-filter").get_by_role("link", name="Phone number revealed").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("sam")
    expect(rows.first).to_contain_text("bob")
    expect(rows.first).to_contain_text("Ticket 4711")
    screenshot("46-support-audit-list")

    page.goto("/admin/intelliauth_sms/")
    expect(page.locator("#iasms-console")).to_contain_text("MFA recovery runbook")
    screenshot("48-support-console-index")
    page.get_by_role("link", name="MFA recovery runbook").click()
    expect(page.locator("h1")).to_have_text("MFA recovery runbook")
    screenshot("49-support-runbook")
    page.click("#iasms-link-reveals")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)

    event = AuditEvent.objects.get(event_type=EventType.NUMBER_REVEALED)
    assert (event.actor.username, event.user, event.phone_last4) == ("sam", bob, "3456")


def test_a_tenant_admin_sees_a_pumping_trip_on_destinations_and_clears_it(
    page: Any, acme: Any, expect: Any, screenshot: Callable[[str], Any]
) -> None:
    from intelliauth_sms.models import PrefixBreaker
    from tests.admin.test_destinations import send

    staff(acme, "ada", TenantMembership.Role.ADMIN)
    results = [send(acme, f"+4474001{i:05d}", i) for i in range(31)]
    assert results[-1] is False  # the 31st unverified send to +44 7400 1… was paused

    sign_in(page, expect, "ada", "/admin/intelliauth_sms/tenant/today/")
    expect(page.locator("#iasms-trips")).to_contain_text("+4474001…")
    page.click("#iasms-destinations-link a")
    expect(page.locator("h1")).to_have_text("Destinations of Acme")
    row = page.locator('tr.iasms-breaker[data-prefix="4474001"]')
    expect(row.locator(".iasms-state")).to_contain_text("Paused until")
    expect(page.locator("#iasms-chart svg")).to_be_visible()
    screenshot("50-admin-destinations-trip")

    row.locator("button.iasms-clear").click()
    expect(page.locator(".messagelist")).to_contain_text("The breaker for 4474001… is cleared.")
    expect(row.locator(".iasms-state")).to_contain_text("Cleared")
    screenshot("51-admin-destinations-cleared")
    breaker = PrefixBreaker.objects.get(tenant=acme, prefix="4474001")
    assert not breaker.is_paused and breaker.cleared_by.username == "ada"
    cleared = AuditEvent.objects.get(event_type=EventType.PUMPING_BREAKER_CLEARED)
    assert cleared.actor.username == "ada"
