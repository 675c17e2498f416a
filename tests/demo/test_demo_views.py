"""The demo site's views with Django's test client: sign-in, the SMS step, account, logout.

The pages' JavaScript is exercised by the browser tier (``tests/browser``); here the API
calls the page would make are made with the same client, so the session (and the flow's
binding to it) is the browser's.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from intelliauth_sms.models import AuthFlow, FactorPurpose
from tests.conftest import last_code
from tests.factories import SmsFactorFactory

pytestmark = pytest.mark.urls("example_project.urls")

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
PHONE = "+14155550100"
FLOW_URL = re.compile(r"^/login/sms/([0-9a-f-]{36})/$")
NO_CODE_COPY = "Didn't get a code? Wait another minute, then click resend."
DEV_NOTE = "console SMS backend"


def sign_in(client: Client, username: str = "alice", password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/login/", {"username": username, "password": password, **extra})


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
def enrolled(user: Any) -> Any:
    """``user`` with a phone for sign-in codes."""
    return SmsFactorFactory(user=user, phone=PHONE)


# --- / and /login/ ------------------------------------------------------------------


def test_the_root_redirects_to_the_account_page(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/account/"


def test_the_account_page_sends_an_anonymous_visitor_to_the_sign_in_page(
    client: Client, db: Any
) -> None:
    response = client.get("/account/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/account/"


def test_the_sign_in_page_has_the_form_and_the_dev_note(client: Client, db: Any) -> None:
    response = client.get("/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert "csrfmiddlewaretoken" in html
    assert DEV_NOTE in html
    assert "/static/demo/demo.css" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from a CDN


def test_a_wrong_password_shows_an_error_and_starts_no_flow(client: Client, enrolled: Any) -> None:
    response = sign_in(client, password="wrong password")

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert AuthFlow.objects.count() == 0
    assert signed_in_user_id(client) is None


def test_a_user_without_an_sms_factor_is_signed_in_directly(client: Client, user: Any) -> None:
    response = sign_in(client)

    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert signed_in_user_id(client) == str(user.pk)
    assert AuthFlow.objects.count() == 0


def test_a_backup_phone_alone_does_not_ask_for_a_code_at_sign_in(client: Client, user: Any) -> None:
    SmsFactorFactory(user=user, phone=PHONE, purpose=FactorPurpose.BACKUP)

    response = sign_in(client)

    assert response["Location"] == "/account/"
    assert signed_in_user_id(client) == str(user.pk)


def test_a_user_with_an_sms_factor_goes_to_the_sms_step_not_signed_in(
    client: Client, enrolled: Any, outbox: list[Any]
) -> None:
    response = sign_in(client)

    flow = flow_of(response)
    assert flow.user == enrolled.user
    assert flow.session_binding  # bound to this browser's session
    assert not flow.is_verified
    assert signed_in_user_id(client) is None
    assert client.get("/account/").status_code == 302
    assert outbox == []  # the page sends the code, not the password step


def test_a_safe_next_is_kept_and_an_unsafe_one_dropped(client: Client, user: Any) -> None:
    assert sign_in(client, next="/admin/")["Location"] == "/admin/"
    client.logout()

    assert sign_in(client, next="https://evil.example/")["Location"] == "/account/"


def test_the_sign_in_page_says_who_is_signed_in_instead_of_redirecting(
    client: Client, user: Any
) -> None:
    client.force_login(user)

    response = client.get("/login/?next=/admin/")

    assert response.status_code == 200
    assert "You're signed in as" in response.content.decode()


@pytest.mark.parametrize("path", ["/admin/login/", "/api-auth/login/"])
def test_password_only_login_pages_redirect_to_the_demo_sign_in(
    client: Client, db: Any, path: str
) -> None:
    response = client.get(f"{path}?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fadmin%2F"


def test_the_admin_sends_an_anonymous_visitor_through_the_demo_sign_in(
    client: Client, db: Any
) -> None:
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/login/?next=")
    assert response.status_code == 200


# --- /login/sms/<flow_id>/ ----------------------------------------------------------


def test_the_sms_step_page_renders_for_its_own_session_and_sends_nothing(
    client: Client, enrolled: Any, outbox: list[Any]
) -> None:
    flow = flow_of(sign_in(client))

    response = client.get(f"/login/sms/{flow.id}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-flow-id="{flow.id}"' in html
    assert 'data-verified="false"' in html
    assert 'data-api-base-url="/api/mfa/sms/"' in html
    assert "Sending code…" in html
    assert NO_CODE_COPY in html
    assert 'id="verify"' in html and 'id="resend"' in html
    assert f'action="/login/sms/{flow.id}/finish/"' in html
    assert "/static/intelliauth_sms/intelliauth-sms.js" in html
    assert "/static/demo/sms-step.js" in html
    assert DEV_NOTE in html
    assert "•••• 0100" not in html and PHONE not in html  # the page learns it from the API
    assert outbox == []
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_sms_step_page_keeps_next_for_the_finish_form(client: Client, enrolled: Any) -> None:
    response = sign_in(client, next="/admin/")
    assert response["Location"].endswith("?next=%2Fadmin%2F")

    page = client.get(response["Location"])

    assert 'name="next" value="/admin/"' in page.content.decode()


@pytest.mark.parametrize("flow_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_flow_sends_the_visitor_back_to_sign_in(
    client: Client, db: Any, flow_id: str
) -> None:
    response = client.get(f"/login/sms/{flow_id}/", follow=True)

    assert response.redirect_chain == [("/login/", 302)]
    assert "That sign-in has expired. Sign in again." in response.content.decode()


def test_an_expired_flow_sends_the_visitor_back_to_sign_in(client: Client, enrolled: Any) -> None:
    flow = flow_of(sign_in(client))
    AuthFlow.objects.filter(pk=flow.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(f"/login/sms/{flow.id}/")

    assert response["Location"] == "/login/"


def test_another_browsers_flow_is_not_shown(client: Client, enrolled: Any) -> None:
    flow = flow_of(sign_in(client))

    response = Client().get(f"/login/sms/{flow.id}/")

    assert response["Location"] == "/login/"


# --- /login/sms/<flow_id>/finish/ ---------------------------------------------------


def test_the_whole_sign_in_ends_signed_in_on_the_account_page(
    client: Client,
    enrolled: Any,
    outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    flow = flow_of(sign_in(client))
    pass_sms_step(client, flow, outbox, django_capture_on_commit_callbacks)

    response = client.post(f"/login/sms/{flow.id}/finish/")

    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert signed_in_user_id(client) == str(enrolled.user.pk)
    flow.refresh_from_db()
    assert flow.logged_in_at is not None
    account = client.get("/account/")
    assert account.status_code == 200
    assert "•••• 0100" in account.content.decode()


def test_the_sms_step_page_of_a_verified_flow_just_finishes(
    client: Client,
    enrolled: Any,
    outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    flow = flow_of(sign_in(client))
    pass_sms_step(client, flow, outbox, django_capture_on_commit_callbacks)

    response = client.get(f"/login/sms/{flow.id}/")

    assert 'data-verified="true"' in response.content.decode()


def test_finishing_goes_to_a_safe_next(
    client: Client,
    enrolled: Any,
    outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    flow = flow_of(sign_in(client))
    pass_sms_step(client, flow, outbox, django_capture_on_commit_callbacks)

    response = client.post(f"/login/sms/{flow.id}/finish/", {"next": "//evil.example/"})

    assert response["Location"] == "/account/"


def test_finishing_before_the_code_is_verified_goes_back_to_the_sms_step(
    client: Client, enrolled: Any
) -> None:
    flow = flow_of(sign_in(client))

    response = client.post(f"/login/sms/{flow.id}/finish/")

    assert response["Location"] == f"/login/sms/{flow.id}/"
    assert signed_in_user_id(client) is None


def test_a_flow_finishes_only_once(
    client: Client,
    enrolled: Any,
    outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    flow = flow_of(sign_in(client))
    pass_sms_step(client, flow, outbox, django_capture_on_commit_callbacks)
    assert client.post(f"/login/sms/{flow.id}/finish/")["Location"] == "/account/"
    client.logout()

    response = client.post(f"/login/sms/{flow.id}/finish/")

    assert response["Location"] == "/login/"
    assert signed_in_user_id(client) is None


def test_another_browser_cannot_finish_a_verified_flow(
    client: Client,
    enrolled: Any,
    outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    flow = flow_of(sign_in(client))
    pass_sms_step(client, flow, outbox, django_capture_on_commit_callbacks)
    other = Client()

    response = other.post(f"/login/sms/{flow.id}/finish/")

    assert response["Location"] == "/login/"
    assert signed_in_user_id(other) is None
    flow.refresh_from_db()
    assert flow.logged_in_at is None


def test_finish_needs_post_and_a_csrf_token(client: Client, enrolled: Any) -> None:
    flow = flow_of(sign_in(client))
    assert client.get(f"/login/sms/{flow.id}/finish/").status_code == 405

    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies

    assert strict.post(f"/login/sms/{flow.id}/finish/").status_code == 403


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


def test_logout_signs_out_and_goes_to_the_sign_in_page(client: Client, user: Any) -> None:
    client.force_login(user)

    response = client.post("/logout/")

    assert response["Location"] == "/login/"
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


def test_the_javascript_client_uses_no_syntax_newer_than_es2017() -> None:
    source = Path(str(finders.find("intelliauth_sms/intelliauth-sms.js"))).read_text()
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)  # comments out

    assert "?." not in code, "optional chaining is ES2020"
    assert "??" not in code, "nullish coalescing is ES2020"
    assert "..." not in code, "object spread is ES2018 (and array spread is not needed)"
    assert not re.search(r"catch\s*\{", code), "optional catch binding is ES2019"
    assert "import " not in code and "export " not in code, "a classic script, not a module"
