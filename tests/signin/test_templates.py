"""The drop-in's templates, and a site overriding them the usual Django way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.signin.conftest import LOGIN, flow_of, sign_in

SITE_TEMPLATES = Path(__file__).resolve().parent / "templates"


@pytest.fixture
def site_templates(settings: Any) -> None:
    """The site's own template directory (``DIRS``), searched before the apps'."""
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [SITE_TEMPLATES]},
        *settings.TEMPLATES[1:],
    ]


def template_names(response: Any) -> list[str]:
    return [template.name for template in response.templates]


def test_the_pages_are_rendered_from_the_apps_signin_templates(
    client: Client, enrolled: Any
) -> None:
    login = client.get(LOGIN)
    step = client.get(sign_in(client)["Location"])

    assert template_names(login)[:2] == [
        "intelliauth_sms/signin/login.html",
        "intelliauth_sms/signin/base.html",
    ]
    assert template_names(step)[:2] == [
        "intelliauth_sms/signin/sms_step.html",
        "intelliauth_sms/signin/base.html",
    ]
    html = login.content.decode()
    assert "/static/intelliauth_sms/signin.css" in html
    assert "If you have a phone set up for SMS codes, we'll text you a code next." in html


@pytest.mark.usefixtures("site_templates")
def test_a_site_overrides_the_base_template_and_a_block_of_the_login_page(
    client: Client, enrolled: Any
) -> None:
    login = client.get(LOGIN).content.decode()
    flow = flow_of(sign_in(client))
    step = client.get(f"/accounts/login/sms/{flow.id}/").content.decode()

    for html in (login, step):
        assert '<div id="site-chrome">Site of the test</div>' in html
        assert "/static/intelliauth_sms/signin.css" not in html  # the app's base is replaced
    assert "<title>Sign in | Site of the test</title>" in login
    assert '<p id="site-aside">Forgot your password? Call the help desk.</p>' in login
    assert 'id="id_username"' in login  # the rest of the app's login page is kept
    assert 'id="code"' in step and "/static/intelliauth_sms/sms-step.js" in step
