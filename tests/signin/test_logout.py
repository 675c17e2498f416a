"""``accounts/logout/``: POST only, with CSRF, then the login page by default."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.signin.conftest import LOGIN, LOGOUT, signed_in_user_id


def test_logout_signs_out_and_goes_to_the_login_page(client: Client, user: Any) -> None:
    client.force_login(user)

    response = client.post(LOGOUT)

    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert signed_in_user_id(client) is None


def test_logout_goes_to_logout_redirect_url_when_set(
    client: Client, user: Any, settings: Any
) -> None:
    settings.LOGOUT_REDIRECT_URL = "/goodbye/"
    client.force_login(user)

    assert client.post(LOGOUT)["Location"] == "/goodbye/"


def test_logout_goes_to_a_safe_next_only(client: Client, user: Any) -> None:
    client.force_login(user)
    assert client.post(LOGOUT, {"next": "/admin/"})["Location"] == "/admin/"

    client.force_login(user)
    assert client.post(LOGOUT, {"next": "https://evil.example/"})["Location"] == LOGIN


def test_logout_is_post_only(client: Client, user: Any) -> None:
    client.force_login(user)

    assert client.get(LOGOUT).status_code == 405
    assert signed_in_user_id(client) == str(user.pk)


def test_logout_needs_a_csrf_token(user: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)

    assert strict.post(LOGOUT).status_code == 403
    assert signed_in_user_id(strict) == str(user.pk)
