"""The drop-in's recovery pages: "Lost access to your phone?" through to a signed-in user."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from intelliauth_sms.mfa import SESSION_KEY as MFA_SESSION_KEY
from intelliauth_sms.models import SmsFactor, TenantPolicy
from intelliauth_sms.services.security_answers import set_answers
from tests.conftest import last_code
from tests.recovery import PASSWORD
from tests.signin.conftest import AFTER_SIGN_IN, _signin_site  # noqa: F401 - autouse fixture

RECOVER = "/accounts/recover/"
CODE_PAGE = re.compile(r"^/accounts/recover/([0-9a-f-]{36})/$")
# The drop-in laid out as the README says (the autouse fixture of tests/signin).
AFTER = AFTER_SIGN_IN


@pytest.fixture
def browser(django_capture_on_commit_callbacks: Any) -> Any:
    """A test client whose requests run their on-commit callbacks (the SMS and the email)."""

    class Browser(Client):
        def request(self, **request: Any) -> Any:
            with django_capture_on_commit_callbacks(execute=True):
                return super().request(**request)

    return Browser()


def test_the_sms_step_page_links_to_recovery(browser: Any, user: Any) -> None:
    from tests.factories import SmsFactorFactory

    SmsFactorFactory(user=user)
    password_step = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    step_page = browser.get(password_step["Location"]).content.decode()
    assert 'href="/accounts/recover/" id="lost-phone">Lost access to your phone?' in step_page
    page = browser.get(RECOVER)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Lost access to your phone?" in html
    assert 'name="answer-first-school"' in html


def test_recovering_through_the_pages_signs_in_with_the_mfa_time(
    browser: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any], user: Any
) -> None:
    sent = browser.post(RECOVER, {"username": "alice", "password": PASSWORD})
    assert sent.status_code == 302, sent.content.decode()[:500]
    match = CODE_PAGE.match(sent["Location"])
    assert match, sent["Location"]
    page = browser.get(sent["Location"])
    assert "We sent a code to •••• 3456." in page.content.decode()

    wrong = browser.post(sent["Location"], {"code": "12 34"})
    assert "Enter the 6-digit code from the SMS." in wrong.content.decode()
    done = browser.post(sent["Location"], {"code": last_code(outbox)})

    assert done.status_code == 302 and done["Location"] == AFTER
    assert browser.session[SESSION_KEY] == str(user.pk)
    assert browser.session[MFA_SESSION_KEY]["user"] == str(user.pk)
    # The recovered session may manage its phones at once (MFA-bound access).
    assert browser.get("/api/mfa/sms/factors/").status_code == 200


def test_the_recovery_redirect_setting_wins(
    browser: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any], settings: Any
) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "RECOVERY_REDIRECT_URL": "/phones/"}
    sent = browser.post(RECOVER, {"username": "alice", "password": PASSWORD})
    done = browser.post(sent["Location"], {"code": last_code(outbox)})
    assert done["Location"] == "/phones/"


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_wrong_credentials_show_one_message_and_send_nothing(
    username: str, browser: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any]
) -> None:
    page = browser.post(RECOVER, {"username": username, "password": "wrong"})
    assert page.status_code == 200
    assert "The details you entered don&#x27;t match our records." in page.content.decode()
    assert outbox == []


def test_answers_typed_on_the_page_are_checked(
    browser: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any], user: Any
) -> None:
    policy.recovery_requires_security_answers = True
    policy.save()
    set_answers(user, {"first-school": "Hill Top"})
    refused = browser.post(RECOVER, {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 200 and outbox == []
    sent = browser.post(
        RECOVER, {"username": "alice", "password": PASSWORD, "answer-first-school": "hill  top"}
    )
    assert sent.status_code == 302


def test_another_browser_cannot_use_the_recovery(
    browser: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any]
) -> None:
    sent = browser.post(RECOVER, {"username": "alice", "password": PASSWORD})
    stranger = Client()
    response = stranger.post(sent["Location"], {"code": last_code(outbox)})
    assert response.status_code == 302 and response["Location"] == RECOVER
    assert SESSION_KEY not in stranger.session


def test_an_unknown_recovery_id_starts_again(browser: Any, db: Any) -> None:
    response = browser.get("/accounts/recover/not-a-uuid/")
    assert response.status_code == 302 and response["Location"] == RECOVER
