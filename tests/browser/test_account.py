"""The demo's account page in Chromium: add a phone as typed, reveal it, remove it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from intelliauth_sms.backends import locmem
from intelliauth_sms.models import AuditEvent, SmsFactor
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
GB_MOBILE = "+447911123456"
ACCOUNT_URL = re.compile(r".*/account/$")
SMS_STEP_URL = re.compile(r".*/accounts/login/sms/[0-9a-f-]{36}/$")
NATIONAL_COPY = "Enter a mobile number that is valid for the country you chose."


@pytest.fixture
def bob(transactional_db: Any) -> Any:
    """A user with no phone yet: the password alone signs him in."""
    return UserFactory(username="bob")


def sign_in(page: Any, expect: Any, username: str = "bob") -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#sign-in")
    expect(page).to_have_url(ACCOUNT_URL)


def test_enrol_a_phone_typed_in_national_format_then_reveal_and_remove_it(
    page: Any,
    bob: Any,
    expect: Any,
    screenshot: Callable[[str], Any],
    wait_for_sms: Callable[[int], str],
) -> None:
    sign_in(page, expect)
    expect(page.locator("#no-factors")).to_be_visible()
    expect(page.locator("#phone")).to_have_attribute("placeholder", "e.g. (201) 555-0123")
    page.select_option("#country", "GB")
    expect(page.locator("#phone")).to_have_attribute("placeholder", "e.g. 07400 123456")
    screenshot("10-account-empty")

    page.fill("#phone", "07911 123-456")
    page.click("#send-code")

    expect(page.locator("#enrol-status")).to_have_text("We sent a code to •••• 3456.")
    expect(page.locator("#add-phone-form")).to_be_hidden()
    screenshot("11-account-enrol-code")
    code = wait_for_sms(1)
    assert locmem.outbox[0].to == GB_MOBILE

    page.fill("#enrol-code", code)
    page.click("#enrol-verify")

    expect(page.locator("#add-success")).to_have_text("Added •••• 3456.")
    expect(page.locator("#no-factors")).to_be_hidden()
    factor_row = page.locator("#factor-list .factor")
    expect(factor_row).to_have_count(1)
    expect(factor_row.locator(".number")).to_have_text("•••• 3456")
    expect(factor_row.locator(".badge")).to_have_text("Sign-in (MFA)")
    expect(page.locator("#add-phone-form")).to_be_visible()
    screenshot("12-account-enrolled")
    factor = SmsFactor.objects.get(user=bob)
    assert str(factor.phone_number) == GB_MOBILE
    assert factor.purpose == "mfa"

    factor_row.locator("button.reveal").click()
    expect(factor_row.locator(".number")).to_have_text(GB_MOBILE)
    expect(factor_row.locator("button.reveal")).to_have_text("Hide")
    screenshot("13-account-revealed")
    assert AuditEvent.objects.filter(event_type="number_revealed", user=bob).count() == 1
    factor_row.locator("button.reveal").click()
    expect(factor_row.locator(".number")).to_have_text("•••• 3456")

    page.once("dialog", lambda dialog: dialog.accept())
    factor_row.locator("button.remove").click()
    expect(page.locator("#factor-list .factor")).to_have_count(0)
    expect(page.locator("#no-factors")).to_be_visible()
    assert not SmsFactor.objects.filter(user=bob).exists()

    # The list is the server's after a reload too.
    page.reload()
    expect(page.locator("#factor-list .factor")).to_have_count(0)


def test_a_number_not_valid_for_the_country_is_refused_before_any_sms(
    page: Any, bob: Any, expect: Any, screenshot: Callable[[str], Any]
) -> None:
    sign_in(page, expect)
    page.select_option("#country", "US")
    page.fill("#phone", "07911 123456")  # a GB mobile, US picked

    page.click("#send-code")

    expect(page.locator("#add-error")).to_have_text(NATIONAL_COPY)
    expect(page.locator("#confirm-phone-form")).to_be_hidden()
    screenshot("14-account-invalid-number")
    assert locmem.outbox == []


def test_a_wrong_enrolment_code_shows_the_copy_and_resend_works(
    page: Any,
    bob: Any,
    expect: Any,
    wait_for_sms: Callable[[int], str],
) -> None:
    sign_in(page, expect)
    page.select_option("#country", "DE")
    page.fill("#phone", "0151 2345 6789")
    page.select_option("#purpose", "backup")
    page.click("#send-code")
    expect(page.locator("#enrol-status")).to_have_text("We sent a code to •••• 6789.")
    first = wait_for_sms(1)

    page.click("#enrol-resend")
    expect(page.locator("#enrol-status")).to_have_text(
        "We sent a new code to •••• 6789. Only the latest code works."
    )
    second = wait_for_sms(2)
    page.fill("#enrol-code", first)
    page.click("#enrol-verify")
    expect(page.locator("#add-error")).to_have_text(
        "Make sure you typed the latest code. Codes expire after 5 minutes."
    )

    page.fill("#enrol-code", second)
    page.click("#enrol-verify")

    row = page.locator("#factor-list .factor")
    expect(row.locator(".number")).to_have_text("•••• 6789")
    expect(row.locator(".badge")).to_have_text("Backup (recovery)")


def test_a_phone_added_on_the_account_page_is_asked_for_at_the_next_sign_in(
    page: Any,
    bob: Any,
    expect: Any,
    wait_for_sms: Callable[[int], str],
) -> None:
    sign_in(page, expect)
    page.select_option("#country", "GB")
    page.fill("#phone", "+44 7911 123456")
    page.click("#send-code")
    expect(page.locator("#enrol-status")).to_be_visible()
    page.fill("#enrol-code", wait_for_sms(1))
    page.click("#enrol-verify")
    expect(page.locator("#factor-list .factor")).to_have_count(1)

    page.click("#logout")
    expect(page).to_have_url(re.compile(r".*/accounts/login/$"))
    page.fill("#id_username", "bob")
    page.fill("#id_password", PASSWORD)
    page.click("#sign-in")

    expect(page).to_have_url(SMS_STEP_URL)
    expect(page.locator("#sms-status")).to_have_text("We sent a code to •••• 3456.")
    page.fill("#code", wait_for_sms(2))
    page.click("#verify")
    expect(page).to_have_url(ACCOUNT_URL)
    expect(page.locator(".who")).to_contain_text("Signed in as bob")
