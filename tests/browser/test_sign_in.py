"""Signing in through the app's drop-in sign-in (on the demo site) in Chromium.

Password, then the SMS step page; and the Django admin's login sent through it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from intelliauth_sms.backends import locmem
from intelliauth_sms.models import AuthFlow
from tests.browser.conftest import PASSWORD, enter_password
from tests.factories import SmsFactorFactory, UserFactory

pytestmark = pytest.mark.browser

PHONE = "+14155550100"
SMS_STEP_URL = re.compile(r".*/accounts/login/sms/[0-9a-f-]{36}/$")
ACCOUNT_URL = re.compile(r".*/account/$")

LATEST_CODE_COPY = "Make sure you typed the latest code. Codes expire after 5 minutes."
NO_CODE_COPY = "Didn't get a code? Wait another minute, then click resend."
RATE_LIMITED_COPY = "Codes are limited to a few per hour. Wait 60 minutes, then try again."
LOCKED_COPY = "Too many incorrect codes. Wait 15 minutes, then try again."


@pytest.fixture
def alice(transactional_db: Any) -> Any:
    """A user with a phone for sign-in codes."""
    user = UserFactory(username="alice")
    SmsFactorFactory(user=user, phone=PHONE)
    return user


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_sign_in_with_the_sms_step_ends_signed_in(
    page: Any,
    alice: Any,
    expect: Any,
    screenshot: Callable[[str], Any],
    wait_for_sms: Callable[[int], str],
) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r".*/accounts/login/\?next=/account/$"))
    screenshot("01-login")

    # Hold the initiate request so the page is caught showing "Sending code…".
    held: list[Any] = []
    page.route("**/sms/initiate/", lambda route: held.append(route))
    enter_password(page)
    expect(page).to_have_url(SMS_STEP_URL)
    expect(page.locator("#sms-status")).to_have_text("Sending code…")
    expect(page.locator("#code-form")).to_be_hidden()
    page.wait_for_function("() => true")  # let Playwright dispatch the held route
    while not held:
        page.wait_for_timeout(50)
    screenshot("02-sms-step-sending")
    assert locmem.outbox == []
    held[0].continue_()
    page.unroute("**/sms/initiate/")

    expect(page.locator("#sms-status")).to_have_text("We sent a code to •••• 0100.")
    expect(page.locator("#code-form")).to_be_visible()
    expect(page.locator("#sms-hint")).to_be_hidden()
    screenshot("03-sms-step-sent")
    code = wait_for_sms(1)
    assert locmem.outbox[0].to == PHONE

    page.fill("#code", f"{code[:3]} {code[3:]}")  # spaces as typed are fine
    page.click("#verify")

    expect(page).to_have_url(ACCOUNT_URL)
    expect(page.locator(".who")).to_contain_text("Signed in as alice")
    expect(page.locator("#factor-list .factor .number")).to_have_text(["•••• 0100"])
    screenshot("04-account-after-sign-in")
    flow = AuthFlow.objects.get(user=alice)
    assert flow.is_verified and flow.logged_in_at is not None
    assert len(locmem.outbox) == 1


def test_a_wrong_code_shows_the_guides_copy_and_the_right_one_still_works(
    page: Any,
    alice: Any,
    expect: Any,
    screenshot: Callable[[str], Any],
    wait_for_sms: Callable[[int], str],
) -> None:
    enter_password(page)
    expect(page.locator("#code-form")).to_be_visible()
    code = wait_for_sms(1)

    page.fill("#code", wrong(code))
    page.click("#verify")

    expect(page.locator("#sms-error-message")).to_have_text(LATEST_CODE_COPY)
    expect(page.locator("#sms-error-detail")).to_have_text("4 attempts left.")
    expect(page).to_have_url(SMS_STEP_URL)
    screenshot("05-sms-step-wrong-code")

    page.fill("#code", code)
    page.click("#verify")
    expect(page).to_have_url(ACCOUNT_URL)


def test_resend_sends_a_new_code_and_only_the_latest_works(
    page: Any,
    alice: Any,
    expect: Any,
    screenshot: Callable[[str], Any],
    wait_for_sms: Callable[[int], str],
) -> None:
    enter_password(page)
    expect(page.locator("#code-form")).to_be_visible()
    first = wait_for_sms(1)

    page.click("#resend")

    expect(page.locator("#sms-status")).to_have_text(
        "We sent a new code to •••• 0100. Only the latest code works."
    )
    second = wait_for_sms(2)
    screenshot("06-sms-step-resent")

    page.fill("#code", first)
    page.click("#verify")
    expect(page.locator("#sms-error-message")).to_have_text(LATEST_CODE_COPY)

    page.fill("#code", second)
    page.click("#verify")
    expect(page).to_have_url(ACCOUNT_URL)


def test_a_rate_limited_resend_shows_the_guides_copy_with_the_real_wait(
    page: Any,
    alice: Any,
    expect: Any,
    screenshot: Callable[[str], Any],
    wait_for_sms: Callable[[int], str],
) -> None:
    enter_password(page)
    expect(page.locator("#code-form")).to_be_visible()
    for sent in (2, 3):  # auth_sms_per_hour is 3 per flow
        page.click("#resend")
        expect(page.locator("#sms-status")).to_contain_text("We sent a new code")
        wait_for_sms(sent)

    page.click("#resend")

    expect(page.locator("#sms-error-message")).to_have_text(RATE_LIMITED_COPY)
    expect(page.locator("#resend")).to_be_disabled()
    expect(page.locator("#resend")).to_have_text("Resend in 60 minutes")
    expect(page.locator("#sms-status")).to_have_text(
        "We sent a new code to •••• 0100. Only the latest code works."
    )
    expect(page.locator("#verify")).to_be_enabled()  # the latest code still works
    screenshot("07-sms-step-rate-limited")
    assert len(locmem.outbox) == 3

    page.fill("#code", wait_for_sms(3))
    page.click("#verify")
    expect(page).to_have_url(ACCOUNT_URL)


def test_no_code_after_30_seconds_shows_the_guides_hint(
    page: Any,
    alice: Any,
    expect: Any,
    screenshot: Callable[[str], Any],
) -> None:
    page.clock.install()
    enter_password(page)
    expect(page.locator("#code-form")).to_be_visible()

    page.clock.run_for(29_000)
    expect(page.locator("#sms-hint")).to_be_hidden()
    page.clock.run_for(2_000)

    expect(page.locator("#sms-hint")).to_have_text(NO_CODE_COPY)
    screenshot("08-sms-step-no-code-hint")


def test_too_many_wrong_codes_lock_the_step_with_the_apis_message(
    page: Any,
    alice: Any,
    expect: Any,
    screenshot: Callable[[str], Any],
    wait_for_sms: Callable[[int], str],
) -> None:
    enter_password(page)
    expect(page.locator("#code-form")).to_be_visible()
    bad = wrong(wait_for_sms(1))
    for left in (4, 3, 2, 1):
        page.fill("#code", bad)
        page.click("#verify")
        expect(page.locator("#sms-error-detail")).to_contain_text(f"{left} attempt")

    page.fill("#code", bad)
    page.click("#verify")

    expect(page.locator("#sms-error-message")).to_have_text(LOCKED_COPY)
    expect(page.locator("#verify")).to_be_disabled()
    expect(page.locator("#resend")).to_be_disabled()
    screenshot("09-sms-step-locked")


def test_reloading_the_sms_step_does_not_send_another_code(
    page: Any,
    alice: Any,
    expect: Any,
    wait_for_sms: Callable[[int], str],
) -> None:
    enter_password(page)
    expect(page.locator("#code-form")).to_be_visible()
    code = wait_for_sms(1)

    page.reload()

    expect(page.locator("#sms-status")).to_have_text("We sent a code to •••• 0100.")
    assert len(locmem.outbox) == 1
    page.fill("#code", code)
    page.click("#verify")
    expect(page).to_have_url(ACCOUNT_URL)


def test_a_user_without_a_phone_signs_in_with_the_password_alone(
    page: Any, transactional_db: Any, expect: Any
) -> None:
    UserFactory(username="bob")

    enter_password(page, "bob")

    expect(page).to_have_url(ACCOUNT_URL)
    expect(page.locator("#no-factors")).to_be_visible()
    assert locmem.outbox == []


def test_coming_back_to_a_verified_step_finishes_the_sign_in(
    page: Any,
    alice: Any,
    expect: Any,
    wait_for_sms: Callable[[int], str],
) -> None:
    enter_password(page)
    expect(page.locator("#code-form")).to_be_visible()
    step_url = page.url
    page.route("**/finish/", lambda route: route.abort())  # the finish POST is lost
    page.fill("#code", wait_for_sms(1))
    page.click("#verify")
    for _ in range(100):  # until the API has verified the flow
        if AuthFlow.objects.get(user=alice).is_verified:
            break
        page.wait_for_timeout(50)
    expect(page.get_by_text("ERR_FAILED")).to_be_visible()  # Chromium's error page
    page.unroute("**/finish/")

    page.goto(step_url)

    expect(page).to_have_url(ACCOUNT_URL)
    expect(page.locator(".who")).to_contain_text("Signed in as alice")
    assert len(locmem.outbox) == 1


def test_the_admin_login_asks_a_staff_user_with_a_phone_for_the_sms_code(
    page: Any,
    transactional_db: Any,
    expect: Any,
    screenshot: Callable[[str], Any],
    wait_for_sms: Callable[[int], str],
) -> None:
    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    SmsFactorFactory(user=staff, phone=PHONE)

    page.goto("/admin/")

    # admin/login/ is routed to the drop-in, keeping where the admin wanted to go.
    expect(page).to_have_url(re.compile(r".*/accounts/login/\?next=(/|%2F)admin(/|%2F)$"))
    screenshot("10-admin-login-through-the-drop-in")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("#sign-in")

    expect(page).to_have_url(re.compile(r".*/accounts/login/sms/[0-9a-f-]{36}/\?next=%2Fadmin%2F$"))
    expect(page.locator("#sms-status")).to_have_text("We sent a code to •••• 0100.")
    screenshot("11-admin-sms-step")
    page.fill("#code", wait_for_sms(1))
    page.click("#verify")

    expect(page).to_have_url(re.compile(r".*/admin/$"))
    expect(page.locator("#site-name")).to_be_visible()
    expect(page.locator("#user-tools")).to_contain_text("root")
    screenshot("12-admin-index-after-sms-step")
    flow = AuthFlow.objects.get(user=staff)
    assert flow.is_verified and flow.logged_in_at is not None


WEBOTP_STUB = """
window.OTPCredential = function () {};
navigator.credentials.get = function (options) {
  window.__otpRequests = (window.__otpRequests || []).concat([options]);
  return new Promise(function (resolve) { window.__deliverOtp = resolve; });
};
"""


def test_webotp_fills_in_the_code_and_signs_in_where_the_browser_has_it(
    page: Any,
    alice: Any,
    expect: Any,
    wait_for_sms: Callable[[int], str],
) -> None:
    page.add_init_script(WEBOTP_STUB)
    enter_password(page)
    expect(page).to_have_url(SMS_STEP_URL)
    expect(page.locator("#sms-status")).to_have_text("We sent a code to •••• 0100.")
    page.wait_for_function("() => typeof window.__deliverOtp === 'function'")
    requested = page.evaluate("() => window.__otpRequests[0].otp.transport")
    assert requested == ["sms"]

    page.evaluate("code => window.__deliverOtp({code: code})", wait_for_sms(1))

    expect(page).to_have_url(ACCOUNT_URL)  # filled in and submitted, nothing typed


def test_without_webotp_the_page_works_as_before(
    page: Any,
    alice: Any,
    expect: Any,
    wait_for_sms: Callable[[int], str],
) -> None:
    page.add_init_script("delete window.OTPCredential;")
    enter_password(page)
    expect(page).to_have_url(SMS_STEP_URL)
    expect(page.locator("#sms-status")).to_have_text("We sent a code to •••• 0100.")
    assert page.evaluate("() => 'OTPCredential' in window") is False
    page.fill("#code", wait_for_sms(1))
    page.click("#verify")
    expect(page).to_have_url(ACCOUNT_URL)
