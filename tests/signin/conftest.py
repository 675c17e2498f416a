"""The drop-in sign-in (``intelliauth_sms.urls``) on a site laid out as the README says.

Tests drive the pages with Django's test client and make the API calls the SMS step page
would make with the same client, so the session (and the flow's binding to it) is the
browser's. The pages' JavaScript runs in the browser tier (``tests/browser``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client

from intelliauth_sms.models import AuthFlow
from tests.conftest import last_code
from tests.factories import SmsFactorFactory

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
PHONE = "+14155550100"
LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
AFTER_SIGN_IN = "/welcome/"
FLOW_URL = re.compile(r"^/accounts/login/sms/([0-9a-f-]{36})/$")
# A minute boundary: a slice of the password-attempt counts starts here.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _signin_site(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.signin.urls"
    settings.LOGIN_URL = "intelliauth_sms_signin:login"
    settings.LOGIN_REDIRECT_URL = AFTER_SIGN_IN


@pytest.fixture
def enrolled(user: Any) -> Any:
    """``user`` (alice) with a phone for sign-in codes."""
    return SmsFactorFactory(user=user, phone=PHONE)


@pytest.fixture
def clock() -> Iterator[Any]:
    """Frozen time at ``START`` (the cache's expiry follows it too)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sign_in(client: Client, username: str = "alice", password: str = PASSWORD, **extra: Any) -> Any:
    """POST the login form."""
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def flow_of(response: Any) -> AuthFlow:
    """The flow the password step redirected to."""
    assert response.status_code == 302, response.content
    match = FLOW_URL.match(response["Location"].split("?")[0])
    assert match, response["Location"]
    return AuthFlow.objects.get(pk=match.group(1))


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


def pass_sms_step(client: Client, flow: AuthFlow, outbox: list[Any], capture: Any) -> None:
    """What the SMS step page does through the API: initiate, then complete."""
    with capture(execute=True):
        sent = client.post(
            f"/api/mfa/sms/flows/{flow.id}/sms/initiate/", {}, content_type="application/json"
        )
    assert sent.status_code == 202, sent.content
    done = client.post(
        f"/api/mfa/sms/flows/{flow.id}/sms/complete/",
        {"code": last_code(outbox)},
        content_type="application/json",
    )
    assert done.json() == {"status": "verified"}, done.content


@pytest.fixture
def verified_flow(
    client: Client, enrolled: Any, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> AuthFlow:
    """``client`` typed alice's password and passed the SMS step; not finished yet."""
    flow = flow_of(sign_in(client))
    pass_sms_step(client, flow, outbox, django_capture_on_commit_callbacks)
    return flow


def login_error(response: Any) -> str:
    """The text of the login form's error box."""
    match = re.search(r'id="login-error">(.*?)</div>', response.content.decode(), re.S)
    assert match, "no error on the page"
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).strip()
