"""In Chromium: the SMS step again after the re-authentication window (issue 7), and the
whole account recovery from the sign-in page to a re-enrolled account (issue 8)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from intelliauth_sms.backends import locmem
from intelliauth_sms.models import AuditEvent, FactorPurpose, SmsFactor, TenantPolicy
from tests.browser.conftest import PASSWORD, enter_password
from tests.factories import SmsFactorFactory, UserFactory

pytestmark = pytest.mark.browser

PHONE = "+14155550100"
BACKUP = "+447911123456"
SMS_STEP_URL = re.compile(r".*/accounts/login/sms/[0-9a-f-]{36}/$")
ACCOUNT_URL = re.compile(r".*/account/$")


@pytest.fixture
def alice(transactional_db: Any) -> Any:
    user = UserFactory(username="alice")
    SmsFactorFactory(user=user, phone=PHONE)
    return user


def sign_in_with_sms(page: Any, expect: Any, wait_for_sms: Callable[[int], str]) -> None:
    enter_password(page)
    expect(page).to_have_url(SMS_STEP_URL)
    expect(page.locator("#sms-status")).to_have_text("We sent a code to •••• 0100.")
    page.fill("#code", wait_for_sms(1))
    page.click("#verify")
    expect(page).to_have_url(ACCOUNT_URL)


def test_removing_a_phone_after_the_window_asks_for_the_sms_step_again(
    page: Any,
    alice: Any,
    expect: Any,
    screenshot: Callable[[str], Any],
    wait_for_sms: Callable[[int], str],
) -> None:
    SmsFactorFactory(user=alice, phone=BACKUP, purpose=FactorPurpose.BACKUP)
    sign_in_with_sms(page, expect, wait_for_sms)
    rows = page.locator("#factor-list .factor")
    expect(rows).to_have_count(2)

    # Ten minutes later the sign-in's SMS step is older than REAUTHENTICATION_SECONDS.
    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=True):
        page.once("dialog", lambda dialog: dialog.accept())
        rows.nth(1).locator("button.remove").click()

        expect(page.locator("#step-up-form")).to_be_visible()
        expect(page.locator("#step-up-status")).to_have_text(
            "For your security, enter the code we sent to •••• 0100."
        )
        screenshot("30-account-step-up")
        assert SmsFactor.objects.filter(user=alice).count() == 2  # nothing removed yet
        page.fill("#step-up-code", wait_for_sms(2))
        page.click("#step-up-verify")

        expect(page.locator("#step-up-form")).to_be_hidden()
        expect(rows).to_have_count(1)
    assert list(SmsFactor.objects.filter(user=alice).values_list("purpose", flat=True)) == ["mfa"]
    refused = AuditEvent.objects.filter(event_type="access_refused", user=alice)
    assert list(refused.values_list("failure_code", flat=True)) == ["reauthentication_required"]
    assert AuditEvent.objects.filter(event_type="reauthenticated", user=alice).count() == 1
    assert [sms.to for sms in locmem.outbox] == [PHONE, PHONE]


def test_recovery_from_the_sign_in_page_to_a_re_enrolled_account(
    page: Any,
    alice: Any,
    expect: Any,
    screenshot: Callable[[str], Any],
    wait_for_sms: Callable[[int], str],
) -> None:
    policy = TenantPolicy.objects.get(tenant__slug="default")
    policy.allow_sms_recovery = True
    policy.save()
    SmsFactorFactory(user=alice, phone=BACKUP, purpose=FactorPurpose.BACKUP)
    lost = SmsFactor.objects.get(user=alice, purpose=FactorPurpose.MFA)

    enter_password(page)
    expect(page).to_have_url(SMS_STEP_URL)
    wait_for_sms(1)  # the code went to the lost phone
    page.click("#lost-phone")

    expect(page.locator("h1")).to_have_text("Lost access to your phone?")
    screenshot("31-recover")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "not my password")
    page.click("#send-recovery-code")
    expect(page.locator("#recover-error")).to_have_text(
        "The details you entered don't match our records."
    )
    page.fill("#id_password", PASSWORD)
    page.click("#send-recovery-code")

    expect(page.locator("#recover-status")).to_have_text("We sent a code to •••• 3456.")
    screenshot("32-recover-code")
    code = wait_for_sms(2)
    assert locmem.outbox[1].to == BACKUP
    page.fill("#code", code)
    page.click("#verify-recovery")

    expect(page).to_have_url(ACCOUNT_URL)
    expect(page.locator(".messages")).to_contain_text(
        "You're back in. Set up the phone you sign in with again."
    )
    # Re-enrol: remove the lost phone, add the new one.
    lost_row = page.locator(f'#factor-list .factor[data-factor-id="{lost.id}"]')
    page.once("dialog", lambda dialog: dialog.accept())
    lost_row.locator("button.remove").click()
    expect(lost_row).to_have_count(0)
    page.select_option("#country", "US")
    page.fill("#phone", "(415) 555-0123")
    page.click("#send-code")
    expect(page.locator("#enrol-status")).to_have_text("We sent a code to •••• 0123.")
    page.fill("#enrol-code", wait_for_sms(3))
    page.click("#enrol-verify")
    expect(page.locator("#add-success")).to_have_text("Added •••• 0123.")
    screenshot("33-recovered-and-re-enrolled")

    phones = {(str(f.phone_number), f.purpose) for f in SmsFactor.objects.filter(user=alice)}
    assert phones == {(BACKUP, "backup"), ("+14155550123", "mfa")}
    trail = set(
        AuditEvent.objects.filter(user=alice, is_recovery=True).values_list("event_type", flat=True)
    )
    assert {"recovery_requested", "recovery_completed", "recovery_login"} <= trail
