"""``accounts/login/``: the password step, and where it sends the browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from intelliauth_sms import mfa
from intelliauth_sms.models import AuthFlow, FactorPurpose
from tests.factories import SmsFactorFactory
from tests.signin.conftest import (
    AFTER_SIGN_IN,
    LOGIN,
    PHONE,
    flow_of,
    login_error,
    sign_in,
    signed_in_user_id,
)

INVALID_LOGIN = "Please enter a correct username and password."


def test_the_login_page_has_the_form(client: Client, db: Any) -> None:
    response = client.get(LOGIN)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'autocomplete="username"' in html
    assert 'name="password"' in html and 'autocomplete="current-password"' in html
    assert "csrfmiddlewaretoken" in html
    assert f'action="{LOGIN}"' in html
    assert response["Cache-Control"].startswith("max-age=0")  # never_cache


def test_a_wrong_password_shows_an_error_and_starts_no_flow(client: Client, enrolled: Any) -> None:
    response = sign_in(client, password="wrong password")

    assert response.status_code == 200
    assert login_error(response).startswith(INVALID_LOGIN)
    assert AuthFlow.objects.count() == 0
    assert signed_in_user_id(client) is None


def test_a_user_without_an_sms_factor_is_signed_in_directly(client: Client, user: Any) -> None:
    response = sign_in(client)

    assert response.status_code == 302
    assert response["Location"] == AFTER_SIGN_IN
    assert signed_in_user_id(client) == str(user.pk)
    assert AuthFlow.objects.count() == 0


def test_a_backup_phone_alone_does_not_ask_for_a_code(client: Client, user: Any) -> None:
    SmsFactorFactory(user=user, phone=PHONE, purpose=FactorPurpose.BACKUP)

    response = sign_in(client)

    assert response["Location"] == AFTER_SIGN_IN
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
    assert outbox == []  # the step page sends the code, not the password step


@pytest.mark.parametrize("next_url", ["/admin/", "/admin/?q=a&b=c"])
def test_a_safe_next_is_where_a_direct_sign_in_ends(
    client: Client, user: Any, next_url: str
) -> None:
    assert sign_in(client, next=next_url)["Location"] == next_url


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"],
)
def test_an_unsafe_next_is_dropped(client: Client, user: Any, next_url: str) -> None:
    page = client.get(LOGIN, {"next": next_url})
    assert 'name="next" value=""' in page.content.decode()

    assert sign_in(client, next=next_url)["Location"] == AFTER_SIGN_IN


def test_next_from_the_query_string_is_kept_in_the_form(client: Client, db: Any) -> None:
    page = client.get(LOGIN, {"next": "/admin/"})

    assert 'name="next" value="/admin/"' in page.content.decode()


def test_next_is_carried_to_the_sms_step(client: Client, enrolled: Any) -> None:
    response = sign_in(client, next="/admin/")

    assert response["Location"].endswith("/?next=%2Fadmin%2F")


def test_the_login_page_says_who_is_signed_in_instead_of_redirecting(
    client: Client, user: Any
) -> None:
    client.force_login(user)

    response = client.get(LOGIN, {"next": "/admin/"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "You're signed in as <strong>alice</strong>." in html
    assert "That account can't open the page you asked for" in html


def test_a_password_only_sign_in_leaves_no_mfa_time(client: Client, user: Any) -> None:
    sign_in(client)

    assert mfa.SESSION_KEY not in client.session


def test_the_login_post_needs_a_csrf_token(db: Any, user: Any) -> None:
    strict = Client(enforce_csrf_checks=True)

    response = sign_in(strict)

    assert response.status_code == 403
    assert signed_in_user_id(strict) is None


def test_the_login_post_with_a_csrf_token_works(db: Any, user: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.get(LOGIN)
    token = strict.cookies["csrftoken"].value

    response = sign_in(strict, csrfmiddlewaretoken=token)

    assert response["Location"] == AFTER_SIGN_IN


def test_the_password_is_hidden_from_error_reports(client: Client, user: Any) -> None:
    response = sign_in(client, password="wrong password")

    assert response.wsgi_request.sensitive_post_parameters == ("password",)


def test_other_methods_are_refused(client: Client, db: Any) -> None:
    assert client.put(LOGIN).status_code == 405
