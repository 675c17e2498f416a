"""Session binding and CSRF of the sign-in step.

A flow started by a site's login view (``start_flow(user, request=request)``) is usable only
from that browser session; any request that carries the session cookie must carry the CSRF
token too. Token and headless clients send no cookie and use unbound flows.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from rest_framework.test import APIClient

from intelliauth_sms.exceptions import NotFound
from intelliauth_sms.flows import get_flow, start_flow
from intelliauth_sms.models import AuthFlow, SmsFactor, SmsUserState
from tests.api import assert_error
from tests.conftest import CommittingClient, last_code
from tests.flows import Browser, complete, initiate, initiate_ok, snapshot
from tests.flows.conftest import same_session, session_request

pytestmark = pytest.mark.urls("tests.flows.urls")


@pytest.fixture
def browser(factor: SmsFactor, django_capture_on_commit_callbacks: Any) -> Browser:
    return Browser(django_capture_on_commit_callbacks)


@pytest.fixture
def other_browser(factor: SmsFactor, django_capture_on_commit_callbacks: Any) -> Browser:
    return Browser(django_capture_on_commit_callbacks)


# --- the whole sign-in in one browser session -------------------------------------------------


def test_a_browser_signs_in_through_the_sms_step_in_its_own_session(
    browser: Browser, outbox: list[Any]
) -> None:
    flow_id = browser.sign_in()
    assert browser.whoami() is None, "the password alone does not sign in"

    sent = initiate(browser.client, flow_id, **browser.csrf())
    assert sent.status_code == 202, sent.content
    done = complete(browser.client, flow_id, last_code(outbox), **browser.csrf())
    assert done.json() == {"status": "verified"}
    finished = browser.finish(flow_id)

    assert finished.json() == {"username": "alice"}
    assert browser.whoami() == "alice"


# --- CSRF ------------------------------------------------------------------------------------


def test_a_request_with_the_session_cookie_but_no_csrf_token_is_refused_and_sends_nothing(
    browser: Browser, outbox: list[Any]
) -> None:
    flow_id = browser.sign_in()
    before = snapshot(outbox)

    response = initiate(browser.client, flow_id)

    assert_error(response, 403, "permission_denied")
    assert "CSRF" in response.json()["error"]["message"]
    assert snapshot(outbox) == before


def test_a_code_submitted_with_the_session_cookie_but_no_csrf_token_is_refused_unjudged(
    browser: Browser, outbox: list[Any]
) -> None:
    flow_id = browser.sign_in()
    code = initiate_ok(browser.client, flow_id, outbox, **browser.csrf())
    before = snapshot(outbox)

    for typed in (code, "000000" if code != "000000" else "111111"):
        assert_error(complete(browser.client, flow_id, typed), 403, "permission_denied")

    assert snapshot(outbox) == before
    assert not AuthFlow.objects.get(pk=flow_id).is_verified
    assert not SmsUserState.objects.filter(failed_attempts__gt=0).exists()
    # The same request with the token goes through.
    ok = complete(browser.client, flow_id, code, **browser.csrf())
    assert ok.json() == {"status": "verified"}


def test_a_wrong_csrf_token_is_refused(browser: Browser, outbox: list[Any]) -> None:
    flow_id = browser.sign_in()

    response = initiate(browser.client, flow_id, HTTP_X_CSRFTOKEN="x" * 64)

    assert_error(response, 403, "permission_denied")
    assert outbox == []


def test_a_session_cookie_that_names_no_session_still_needs_the_csrf_token(
    flow: AuthFlow, outbox: list[Any]
) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "no-such-session"

    assert_error(initiate(client, flow.id), 403, "permission_denied")
    assert outbox == []


def test_a_cookieless_client_uses_an_unbound_flow_without_a_csrf_token(
    flow: AuthFlow, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = CommittingClient(enforce_csrf_checks=True)
    client.capture = django_capture_on_commit_callbacks

    code = initiate_ok(client, flow.id, outbox)

    assert complete(client, flow.id, code).json() == {"status": "verified"}
    assert not client.cookies


# --- session binding over HTTP -----------------------------------------------------------------


def test_another_browser_session_cannot_use_the_flow(
    browser: Browser, other_browser: Browser, outbox: list[Any]
) -> None:
    flow_id = browser.sign_in()
    other_browser.sign_in()  # a valid session and CSRF token of its own
    before = snapshot(outbox)

    answers = [
        initiate(other_browser.client, flow_id, **other_browser.csrf()),
        complete(other_browser.client, flow_id, "123456", **other_browser.csrf()),
    ]

    for answer in answers:
        assert_error(answer, 404, "not_found")
    assert snapshot(outbox) == before


def test_a_cookieless_client_cannot_use_a_session_bound_flow(
    browser: Browser, anon_api: Any, outbox: list[Any]
) -> None:
    flow_id = browser.sign_in()
    code = initiate_ok(browser.client, flow_id, outbox, **browser.csrf())

    answers = [initiate(anon_api, flow_id), complete(anon_api, flow_id, code)]

    for answer in answers:
        assert_error(answer, 404, "not_found", codes=(code,))
    assert len(outbox) == 1
    assert not AuthFlow.objects.get(pk=flow_id).is_verified


def test_another_session_cannot_finish_the_login_of_a_verified_flow(
    browser: Browser, other_browser: Browser, outbox: list[Any]
) -> None:
    flow_id = browser.sign_in()
    code = initiate_ok(browser.client, flow_id, outbox, **browser.csrf())
    assert complete(browser.client, flow_id, code, **browser.csrf()).status_code == 200
    other_browser.sign_in()

    refused = other_browser.finish(flow_id)

    assert refused.status_code == 409
    assert other_browser.whoami() is None
    assert browser.finish(flow_id).json() == {"username": "alice"}


def test_after_the_session_is_flushed_its_flow_is_not_found(
    browser: Browser, outbox: list[Any]
) -> None:
    flow_id = browser.sign_in()
    session_key = browser.client.cookies[django_settings.SESSION_COOKIE_NAME].value
    SessionStore(session_key=session_key).delete()

    response = initiate(browser.client, flow_id, **browser.csrf())

    assert_error(response, 404, "not_found")
    assert outbox == []


# --- session binding in the Python API --------------------------------------------------------


def test_a_flow_started_with_a_request_is_found_from_the_same_session_only(
    factor: SmsFactor,
) -> None:
    request = session_request()
    flow = start_flow(factor.user, request=request)
    assert flow.session_binding, "the flow is bound"

    assert get_flow(flow.id, request=same_session(request)).pk == flow.pk
    for stranger in (session_request(), None):
        with pytest.raises(NotFound):
            get_flow(flow.id, request=stranger)


def test_the_binding_is_a_keyed_hash_not_the_session_key_or_secret(factor: SmsFactor) -> None:
    request = session_request()
    flow = start_flow(factor.user, request=request)
    secret = next(iter(request.session["intelliauth_sms.flows"].values()))

    assert request.session.session_key not in flow.session_binding
    assert secret not in flow.session_binding
    assert len(flow.session_binding) == 64


def test_a_flow_started_without_a_request_is_usable_from_any_session(factor: SmsFactor) -> None:
    flow = start_flow(factor.user)

    assert flow.session_binding == ""
    for request in (session_request(), None):
        assert get_flow(flow.id, request=request).pk == flow.pk


def test_one_session_can_hold_several_flows(factor: SmsFactor) -> None:
    request = session_request()
    flows = [start_flow(factor.user, request=request) for _ in range(3)]

    later = same_session(request)

    assert [get_flow(f.id, request=later).pk for f in flows] == [f.pk for f in flows]
