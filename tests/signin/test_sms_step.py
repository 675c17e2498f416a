"""``accounts/login/sms/<flow_id>/`` and its ``finish/``: the SMS step page and signing in."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from intelliauth_sms import mfa
from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import AuthFlow, FlowKind
from tests.signin.conftest import (
    AFTER_SIGN_IN,
    LOGIN,
    PHONE,
    flow_of,
    pass_sms_step,
    sign_in,
    signed_in_user_id,
)

NO_CODE_COPY = "Didn't get a code? Wait another minute, then click resend."
EXPIRED_COPY = "That sign-in has expired. Sign in again."


def step_url(flow: AuthFlow) -> str:
    return f"/accounts/login/sms/{flow.id}/"


def finish_url(flow: AuthFlow) -> str:
    return f"/accounts/login/sms/{flow.id}/finish/"


# --- the page -----------------------------------------------------------------------


def test_the_sms_step_page_renders_for_its_own_session_and_sends_nothing(
    client: Client, enrolled: Any, outbox: list[Any]
) -> None:
    flow = flow_of(sign_in(client))

    response = client.get(step_url(flow))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-flow-id="{flow.id}"' in html
    assert 'data-verified="false"' in html
    assert 'data-api-base-url="/api/mfa/sms/"' in html
    assert "Sending code…" in html
    assert NO_CODE_COPY in html
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    assert 'id="verify"' in html and 'id="resend"' in html
    assert f'action="{finish_url(flow)}"' in html
    assert "/static/intelliauth_sms/intelliauth-sms.js" in html
    assert "/static/intelliauth_sms/sms-step.js" in html
    assert "csrfmiddlewaretoken" in html
    assert "•••• 0100" not in html and PHONE not in html  # the page learns it from the API
    assert outbox == []
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_sms_step_page_keeps_next_for_the_finish_form(client: Client, enrolled: Any) -> None:
    response = sign_in(client, next="/admin/")

    page = client.get(response["Location"])

    html = page.content.decode()
    assert 'name="next" value="/admin/"' in html
    assert f'href="{LOGIN}?next=/admin/"' in html  # "Cancel and sign in again"


def test_the_sms_step_page_drops_an_unsafe_next(client: Client, enrolled: Any) -> None:
    flow = flow_of(sign_in(client))

    page = client.get(step_url(flow), {"next": "https://evil.example/"})

    assert 'name="next" value=""' in page.content.decode()


@pytest.mark.parametrize("flow_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_flow_sends_the_visitor_back_to_sign_in(
    client: Client, db: Any, flow_id: str
) -> None:
    response = client.get(f"/accounts/login/sms/{flow_id}/", follow=True)

    assert response.redirect_chain == [(LOGIN, 302)]
    assert EXPIRED_COPY in response.content.decode()


def test_an_expired_flow_sends_the_visitor_back_to_sign_in(client: Client, enrolled: Any) -> None:
    flow = flow_of(sign_in(client))
    AuthFlow.objects.filter(pk=flow.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(step_url(flow), {"next": "/admin/"})

    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2F"


def test_another_browsers_flow_is_not_shown(client: Client, enrolled: Any) -> None:
    flow = flow_of(sign_in(client))

    assert Client().get(step_url(flow))["Location"] == LOGIN


def test_a_step_up_flow_is_not_a_sign_in(client: Client, enrolled: Any) -> None:
    client.force_login(enrolled.user)
    request = client.get(LOGIN).wsgi_request
    step_up = start_flow(enrolled.user, request=request, kind=FlowKind.STEP_UP)
    request.session.save()  # the flow is bound to this client's session

    assert client.get(step_url(step_up))["Location"] == LOGIN
    assert client.post(finish_url(step_up))["Location"] == LOGIN
    step_up.refresh_from_db()
    assert step_up.logged_in_at is None
    # Control: the same flow as a sign-in flow would be shown to this session.
    AuthFlow.objects.filter(pk=step_up.pk).update(kind=FlowKind.SIGN_IN)
    assert client.get(step_url(step_up)).status_code == 200


# --- finishing ------------------------------------------------------------------------


def test_the_whole_sign_in_ends_signed_in_with_the_mfa_time_set(
    client: Client,
    enrolled: Any,
    outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    flow = flow_of(sign_in(client))
    assert client.get(step_url(flow)).status_code == 200
    pass_sms_step(client, flow, outbox, django_capture_on_commit_callbacks)

    response = client.post(finish_url(flow))

    assert response.status_code == 302
    assert response["Location"] == AFTER_SIGN_IN
    assert signed_in_user_id(client) == str(enrolled.user.pk)
    flow.refresh_from_db()
    assert flow.logged_in_at is not None
    assert client.session[mfa.SESSION_KEY]["user"] == str(enrolled.user.pk)
    assert [sms.to for sms in outbox] == [PHONE]


def test_the_sms_step_page_of_a_verified_flow_just_finishes(
    client: Client,
    verified_flow: AuthFlow,
) -> None:
    flow = verified_flow

    response = client.get(step_url(flow))

    assert 'data-verified="true"' in response.content.decode()


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [("/admin/", "/admin/"), ("//evil.example/", AFTER_SIGN_IN), ("", AFTER_SIGN_IN)],
)
def test_finishing_goes_to_a_safe_next_only(
    client: Client,
    verified_flow: AuthFlow,
    next_url: str,
    expected: str,
) -> None:
    flow = verified_flow

    response = client.post(finish_url(flow), {"next": next_url})

    assert response["Location"] == expected


def test_finishing_before_the_code_is_verified_goes_back_to_the_sms_step(
    client: Client, enrolled: Any
) -> None:
    flow = flow_of(sign_in(client))

    response = client.post(finish_url(flow), {"next": "/admin/"})

    assert response["Location"] == f"{step_url(flow)}?next=%2Fadmin%2F"
    assert signed_in_user_id(client) is None


def test_a_flow_finishes_only_once(
    client: Client,
    verified_flow: AuthFlow,
) -> None:
    flow = verified_flow
    assert client.post(finish_url(flow))["Location"] == AFTER_SIGN_IN
    client.logout()

    response = client.post(finish_url(flow))

    assert response["Location"] == LOGIN
    assert signed_in_user_id(client) is None


def test_another_browser_cannot_finish_a_verified_flow(
    client: Client,
    verified_flow: AuthFlow,
) -> None:
    flow = verified_flow
    other = Client()

    response = other.post(finish_url(flow))

    assert response["Location"] == LOGIN
    assert signed_in_user_id(other) is None
    flow.refresh_from_db()
    assert flow.logged_in_at is None


def test_finish_needs_post_and_a_csrf_token(
    client: Client,
    verified_flow: AuthFlow,
) -> None:
    flow = verified_flow
    assert client.get(finish_url(flow)).status_code == 405

    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies

    assert strict.post(finish_url(flow)).status_code == 403
    assert signed_in_user_id(client) is None


def _page_copy(html: str) -> dict[str, str]:
    import json
    import re

    block = re.search(r'<script id="sms-step-copy" type="application/json">(.*?)</script>', html)
    assert block, "the page's words are not on it"
    copy: dict[str, str] = json.loads(block.group(1))
    return copy


@pytest.mark.parametrize(
    ("language", "checking", "sent"),
    [
        ("en", "Checking…", "We sent a code to %(phone)s."),
        ("fr", "Vérification…", "Nous avons envoyé un code au %(phone)s."),
        ("es", "Comprobando…", "Hemos enviado un código al %(phone)s."),
    ],
)
def test_the_words_the_page_script_writes_come_in_the_request_language(
    client: Client, enrolled: Any, language: str, checking: str, sent: str
) -> None:
    from django.utils import translation

    flow = flow_of(sign_in(client))

    try:
        page = client.get(step_url(flow), HTTP_ACCEPT_LANGUAGE=language)
    finally:
        translation.activate("en")

    copy = _page_copy(page.content.decode())
    assert (copy["checking"], copy["sent"]) == (checking, sent)
    # Every word the script writes is there, so nothing falls back to English.
    assert {"sending", "sentAgain", "verified", "expired", "attemptsLeft", "resendIn"} <= set(copy)


def test_the_script_knows_every_word_the_server_translates() -> None:
    import re
    from pathlib import Path

    import intelliauth_sms
    from intelliauth_sms.signin.page_copy import sms_step_copy

    script = (
        Path(intelliauth_sms.__file__).parent / "static/intelliauth_sms/sms-step.js"
    ).read_text()
    defaults = set(re.findall(r"^    (\w+): '", script, re.M))
    used = set(re.findall(r"say\('(\w+)'", script)) | {"sent", "sentAgain", "sending"}
    assert defaults == set(sms_step_copy()) and used <= defaults
