"""Origin-bound codes (WICG "SMS one-time codes"): ``WEBOTP_DOMAIN`` (CONTRACT §4)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks

from intelliauth_sms.services.delivery import render_body

# Django 6.1's model checks ask the database whether it supports JSONField.
pytestmark = pytest.mark.django_db


def test_without_the_setting_the_sms_has_no_origin_line(settings: Any) -> None:
    assert "@" not in render_body("123456", 300)


def test_the_last_line_is_the_origin_bound_code(settings: Any) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "WEBOTP_DOMAIN": "example.com"}
    body = render_body("123456", 300)
    assert body.startswith("Your verification code is 123456.")
    assert body.endswith("\n@example.com #123456")
    assert body.splitlines()[-1] == "@example.com #123456"  # one space, nothing before @


def test_every_code_sms_carries_it(settings: Any, api: Any, outbox: list[Any]) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "WEBOTP_DOMAIN": "login.example.org"}
    api.post("/api/mfa/sms/enrolments/", {"phone_number": "+14155550100"}, format="json")
    code = outbox[-1].body.split("code is ")[1][:6]
    assert outbox[-1].body.splitlines()[-1] == f"@login.example.org #{code}"


@pytest.mark.parametrize(
    "domain", ["https://example.com", "example.com/", "exa mple.com", "", "example.com.", "-x.com"]
)
def test_a_domain_that_is_not_a_host_name_is_check_e006(domain: str, settings: Any) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "WEBOTP_DOMAIN": domain}
    assert "intelliauth_sms.E006" in [m.id for m in run_checks()]


@pytest.mark.parametrize("domain", ["example.com", "login.example.co.uk", "localhost"])
def test_host_names_pass(domain: str, settings: Any) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "WEBOTP_DOMAIN": domain}
    assert "intelliauth_sms.E006" not in [m.id for m in run_checks()]
