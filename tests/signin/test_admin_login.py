"""The Django admin's login sent through the drop-in, as the README shows."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from django.test import Client

from tests.factories import SmsFactorFactory, UserFactory
from tests.signin.conftest import (
    LOGIN,
    PASSWORD,
    PHONE,
    flow_of,
    pass_sms_step,
    sign_in,
    signed_in_user_id,
)


def chain(response: Any) -> list[str]:
    """The redirects followed (unquoted: the test client re-encodes ``/`` when following)."""
    assert all(status == 302 for _url, status in response.redirect_chain)
    return [unquote(url) for url, _status in response.redirect_chain]


def test_the_admin_sends_an_anonymous_visitor_to_the_drop_in(client: Client, db: Any) -> None:
    response = client.get("/admin/", follow=True)

    assert chain(response) == ["/admin/login/?next=/admin/", f"{LOGIN}?next=/admin/"]
    assert 'name="next" value="/admin/"' in response.content.decode()


def test_the_admins_own_login_form_signs_nobody_in(client: Client, db: Any) -> None:
    UserFactory(username="root", is_staff=True, is_superuser=True)

    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/admin/"
    assert signed_in_user_id(client) is None


def test_a_staff_user_with_a_phone_reaches_the_admin_after_the_sms_step(
    client: Client, db: Any, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    SmsFactorFactory(user=staff, phone=PHONE)

    flow = flow_of(sign_in(client, "root", next="/admin/"))
    assert client.get("/admin/")["Location"].startswith("/admin/login/")  # not yet
    pass_sms_step(client, flow, outbox, django_capture_on_commit_callbacks)
    finished = client.post(f"/accounts/login/sms/{flow.id}/finish/", {"next": "/admin/"})

    assert finished["Location"] == "/admin/"
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "Site administration" in index.content.decode()


def test_a_non_staff_user_who_signs_in_for_the_admin_does_not_loop(
    client: Client, user: Any
) -> None:
    response = client.post(
        LOGIN, {"username": "alice", "password": PASSWORD, "next": "/admin/"}, follow=True
    )

    assert response.status_code == 200
    assert chain(response) == [
        "/admin/",
        "/admin/login/?next=/admin/",
        f"{LOGIN}?next=/admin/",
    ]
    html = response.content.decode()
    assert "You're signed in as <strong>alice</strong>." in html
    assert "That account can't open the page you asked for" in html
    assert signed_in_user_id(client) == str(user.pk)
