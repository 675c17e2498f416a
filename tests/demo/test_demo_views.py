"""The demo site with Django's test client: the drop-in sign-in in the demo's look, account.

The sign-in itself is the app's (``tests/signin`` tests it); here, what the example site
adds: the drop-in at ``/accounts/`` with the demo's templates over it, the admin's and the
browsable API's login pages sent through it, and the demo's own account page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from intelliauth_sms.models import AuthFlow, FactorPurpose
from tests.factories import SmsFactorFactory
from tests.signin.conftest import (
    LOGIN,
    LOGOUT,
    PHONE,
    flow_of,
    sign_in,
    signed_in_user_id,
)

pytestmark = pytest.mark.urls("example_project.urls")

DEV_NOTE = "console SMS backend"


@pytest.fixture
def enrolled(user: Any) -> Any:
    """``user`` with a phone for sign-in codes."""
    return SmsFactorFactory(user=user, phone=PHONE)


# --- / and the drop-in sign-in ------------------------------------------------------


def test_the_root_redirects_to_the_account_page(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/account/"


def test_the_account_page_sends_an_anonymous_visitor_to_the_sign_in_page(
    client: Client, db: Any
) -> None:
    response = client.get("/account/")

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/account/"


def test_the_sign_in_page_is_the_apps_in_the_demos_look(client: Client, db: Any) -> None:
    response = client.get(LOGIN)

    assert response.status_code == 200
    assert [t.name for t in response.templates][:3] == [
        "intelliauth_sms/signin/login.html",  # the demo's, adding the demo credentials
        "intelliauth_sms/signin/login.html",  # the app's
        "intelliauth_sms/signin/base.html",  # the demo's, over the app's
    ]
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert "csrfmiddlewaretoken" in html
    assert DEV_NOTE in html
    assert "/static/demo/demo.css" in html
    assert "/static/intelliauth_sms/signin.css" not in html
    assert "<code>demo</code> / <code>demo-password-123</code>" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from a CDN


def test_the_sms_step_page_is_in_the_demos_look(client: Client, enrolled: Any) -> None:
    flow = flow_of(sign_in(client))

    html = client.get(f"/accounts/login/sms/{flow.id}/").content.decode()

    assert DEV_NOTE in html and "/static/demo/demo.css" in html
    assert "/static/intelliauth_sms/sms-step.js" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_a_user_without_an_sms_factor_lands_on_the_account_page(client: Client, user: Any) -> None:
    response = sign_in(client)

    assert response["Location"] == "/account/"
    assert signed_in_user_id(client) == str(user.pk)


def test_the_whole_sign_in_ends_signed_in_on_the_account_page(
    client: Client, verified_flow: AuthFlow
) -> None:
    response = client.post(f"/accounts/login/sms/{verified_flow.id}/finish/")

    assert response["Location"] == "/account/"
    assert signed_in_user_id(client) == str(verified_flow.user.pk)
    account = client.get("/account/")
    assert account.status_code == 200
    assert "•••• 0100" in account.content.decode()  # the SMS step set the MFA time


@pytest.mark.parametrize("path", ["/admin/login/", "/api-auth/login/"])
def test_password_only_login_pages_redirect_to_the_drop_in(
    client: Client, db: Any, path: str
) -> None:
    response = client.get(f"{path}?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/admin/"


def test_the_admin_sends_an_anonymous_visitor_through_the_drop_in(client: Client, db: Any) -> None:
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0].startswith(f"{LOGIN}?next=")
    assert response.status_code == 200


def test_the_example_site_takes_no_password_only_api_credential() -> None:
    """HTTP Basic would let a password alone past the SMS step; the example site omits it."""
    from example_project import settings as example_settings

    classes = example_settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    assert classes == ["rest_framework.authentication.SessionAuthentication"]
    assert example_settings.LOGIN_URL == "intelliauth_sms_signin:login"
    apps = example_settings.INSTALLED_APPS
    assert apps.index("example_project.demo") < apps.index("intelliauth_sms")  # overrides


# --- /account/ and /logout/ ---------------------------------------------------------


def test_the_account_page_lists_the_users_factors_masked(
    client: Client, user: Any, other_user: Any
) -> None:
    SmsFactorFactory(user=user, phone=PHONE)
    SmsFactorFactory(user=user, phone="+447911123456", purpose=FactorPurpose.BACKUP)
    SmsFactorFactory(user=other_user, phone="+14155550199")
    client.force_login(user)
    mark_session_verified_now(client, user)

    response = client.get("/account/")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="factor"') == 2
    assert "•••• 0100" in html and "•••• 3456" in html
    assert "4155550100" not in html and "7911123456" not in html
    assert "•••• 0199" not in html and "4155550199" not in html
    assert html.count(">Reveal<") == 2 and html.count(">Remove<") == 2
    assert "Sign-in (MFA)" in html and "Backup (recovery)" in html


def mark_session_verified_now(client: Client, user: Any) -> None:
    """The client's session passed the SMS step just now (as ``complete_login`` records)."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory
    from django.utils import timezone

    from intelliauth_sms.mfa import mark_session_verified

    request = RequestFactory().get("/")
    request.session = SessionStore(session_key=client.session.session_key)
    mark_session_verified(request, user, timezone.now())
    request.session.save()


def test_a_password_only_session_sees_no_phones_until_the_sms_step(
    client: Client, user: Any
) -> None:
    """MFA-bound access: the page shows no list and runs the SMS step first."""
    SmsFactorFactory(user=user, phone=PHONE)
    client.force_login(user)

    html = client.get("/account/").content.decode()

    assert 'data-needs-sms-step="1"' in html
    assert 'class="factor"' not in html and "•••• 0100" not in html
    assert 'id="step-up-form"' in html


def test_the_account_page_has_the_add_a_phone_form(client: Client, user: Any) -> None:
    client.force_login(user)

    response = client.get("/account/")

    html = response.content.decode()
    assert "You haven't added a phone yet." in html
    assert '<option value="GB" data-example="07400 123456">United Kingdom (+44)</option>' in html
    assert '<option value="US" data-example="(201) 555-0123" selected>' in html
    assert 'id="phone"' in html and 'id="enrol-code"' in html
    assert "csrfmiddlewaretoken" in html
    assert "/static/demo/account.js" in html
    assert DEV_NOTE in html


def test_the_log_out_button_posts_to_the_drop_in_logout(client: Client, user: Any) -> None:
    client.force_login(user)

    html = client.get("/account/").content.decode()
    assert f'<form method="post" action="{LOGOUT}">' in html

    response = client.post(LOGOUT)

    assert response["Location"] == LOGIN
    assert signed_in_user_id(client) is None


# --- The JavaScript client ships with the app ---------------------------------------


def test_the_javascript_client_is_a_static_file_of_the_app() -> None:
    found = finders.find("intelliauth_sms/intelliauth-sms.js")

    assert found, "intelliauth_sms/static/intelliauth_sms/intelliauth-sms.js is missing"
    path = Path(str(found))
    assert path.parts[-4:-2] == ("intelliauth_sms", "static")
    source = path.read_text()
    for name in (
        "startMfaEnrolment",
        "initiateMfaStep",
        "completeMfaStep",
        "listFactors",
        "revealFactor",
        "removeFactor",
        "IntelliAuthError",
        "X-CSRFToken",
        "same-origin",
        "retry_after",
    ):
        assert name in source, name


@pytest.mark.parametrize("name", ["intelliauth-sms.js", "sms-step.js"])
def test_the_apps_javascript_uses_no_syntax_newer_than_es2017(name: str) -> None:
    found = finders.find(f"intelliauth_sms/{name}")
    assert found, f"intelliauth_sms/static/intelliauth_sms/{name} is missing"
    source = Path(str(found)).read_text()
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)  # comments out

    assert "?." not in code, "optional chaining is ES2020"
    assert "??" not in code, "nullish coalescing is ES2020"
    assert "..." not in code, "object spread is ES2018 (and array spread is not needed)"
    assert not re.search(r"catch\s*\{", code), "optional catch binding is ES2019"
    assert "import " not in code and "export " not in code, "a classic script, not a module"
