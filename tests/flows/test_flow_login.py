"""After the SMS step: the ``mfa_verified`` signal, the factor's ``last_used_at``, and
``complete_login`` / ``claim_verified_flow``, which log a user in once per verified flow.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from intelliauth_sms import signals
from intelliauth_sms.flows import (
    FlowNotUsable,
    claim_verified_flow,
    complete_login,
    complete_sms_step,
    initiate_sms_step,
    start_flow,
)
from intelliauth_sms.models import AuthFlow, SmsFactor
from tests.conftest import last_code
from tests.factories import SmsFactorFactory
from tests.flows import OTHER_PHONE, complete, events, initiate, initiate_ok, wrong
from tests.flows.conftest import same_session, session_request


@pytest.fixture
def verified_signals() -> Iterator[list[dict[str, Any]]]:
    """Every ``mfa_verified`` sent during the test, with its arguments."""
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append({"sender": sender, **kwargs})

    signals.mfa_verified.connect(receiver, dispatch_uid="tests.flows.login")
    yield received
    signals.mfa_verified.disconnect(dispatch_uid="tests.flows.login")


def _verify(
    flow: AuthFlow, outbox: list[Any], capture: Any, request: HttpRequest | None = None
) -> AuthFlow:
    """Run the SMS step through the Python API, committing as a request would."""
    with capture(execute=True):
        initiate_sms_step(flow.id, request=request)
    with capture(execute=True):
        return complete_sms_step(flow.id, last_code(outbox), request=request)


# --- the mfa_verified signal and last_used_at -----------------------------------------------


def test_mfa_verified_fires_once_with_the_documented_arguments(
    anon_api: Any, flow: AuthFlow, outbox: list[Any], verified_signals: list[dict[str, Any]]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    complete(anon_api, flow.id, wrong(code))
    assert verified_signals == [], "not on a wrong code"

    assert complete(anon_api, flow.id, code).status_code == 200
    complete(anon_api, flow.id, code)  # a replay does not fire it again

    [sent] = verified_signals
    assert set(sent) == {"sender", "signal", "user", "flow", "request"}
    assert sent["sender"] == "intelliauth_sms.services.flows"
    assert sent["user"] == flow.user
    assert sent["flow"].pk == flow.pk and sent["flow"].is_verified
    assert isinstance(sent["request"], HttpRequest)
    assert sent["request"].path == f"/api/mfa/sms/flows/{flow.id}/sms/complete/"


def test_mfa_verified_is_sent_only_after_the_commit(
    flow: AuthFlow,
    outbox: list[Any],
    verified_signals: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        initiate_sms_step(flow.id)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        complete_sms_step(flow.id, last_code(outbox))
    assert verified_signals == []

    for callback in callbacks:
        callback()

    assert len(verified_signals) == 1
    assert verified_signals[0]["request"] is None, "None outside an HTTP request"


def test_verifying_sets_the_factors_last_used_at_and_nothing_else_does(
    clock: Any, anon_api: Any, flow: AuthFlow, factor: SmsFactor, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    complete(anon_api, flow.id, wrong(code))
    factor.refresh_from_db()
    assert factor.last_used_at is None, "neither the send nor a wrong code uses the factor"
    clock.shift(30)

    complete(anon_api, flow.id, code)

    factor.refresh_from_db()
    flow.refresh_from_db()
    assert factor.last_used_at == flow.verified_at
    assert flow.verified_at is not None and flow.verified_at > flow.created_at


def test_last_used_at_is_set_on_the_factor_that_received_the_code(
    anon_api: Any, flow: AuthFlow, factor: SmsFactor, outbox: list[Any]
) -> None:
    second = SmsFactorFactory(user=factor.user, phone=OTHER_PHONE)
    assert initiate(anon_api, flow.id, {"factor_id": str(second.id)}).status_code == 202

    complete(anon_api, flow.id, last_code(outbox))

    factor.refresh_from_db()
    second.refresh_from_db()
    assert (factor.last_used_at, second.last_used_at is not None) == (None, True)


# --- complete_login -----------------------------------------------------------------------------


def test_complete_login_logs_in_the_flows_user_once_verified(
    factor: SmsFactor, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    started = session_request()
    flow = start_flow(factor.user, request=started)
    _verify(flow, outbox, django_capture_on_commit_callbacks, request=same_session(started))
    finishing = same_session(started)
    finishing.user = AnonymousUser()

    user = complete_login(finishing, flow)

    assert user == factor.user
    assert finishing.user == factor.user
    assert finishing.session[SESSION_KEY] == str(factor.user.pk)
    flow.refresh_from_db()
    assert flow.logged_in_at is not None
    [login_event] = events("flow_login")
    assert (login_event.user, login_event.subject_id) == (factor.user, flow.id)


def test_complete_login_accepts_the_flow_id(
    flow: AuthFlow, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    _verify(flow, outbox, django_capture_on_commit_callbacks)
    request = session_request()

    assert complete_login(request, str(flow.id)) == flow.user


def test_complete_login_refuses_an_unverified_flow(
    flow: AuthFlow, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        initiate_sms_step(flow.id)
    request = session_request()

    with pytest.raises(FlowNotUsable, match="not verified"):
        complete_login(request, flow)

    assert SESSION_KEY not in request.session
    flow.refresh_from_db()
    assert flow.logged_in_at is None
    assert events("flow_login") == []


def test_complete_login_refuses_an_expired_verified_flow(
    clock: Any, flow: AuthFlow, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    _verify(flow, outbox, django_capture_on_commit_callbacks)
    clock.shift(600)
    request = session_request()

    with pytest.raises(FlowNotUsable, match="expired"):
        complete_login(request, flow)

    assert SESSION_KEY not in request.session


def test_complete_login_refuses_a_flow_already_used_to_log_in(
    flow: AuthFlow, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    _verify(flow, outbox, django_capture_on_commit_callbacks)
    complete_login(session_request(), flow)
    again = session_request()

    with pytest.raises(FlowNotUsable, match="already used"):
        complete_login(again, flow)

    assert SESSION_KEY not in again.session
    assert len(events("flow_login")) == 1


def test_complete_login_refuses_a_flow_bound_to_another_session(
    factor: SmsFactor, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    started = session_request()
    flow = start_flow(factor.user, request=started)
    _verify(flow, outbox, django_capture_on_commit_callbacks, request=same_session(started))
    stranger = session_request()

    with pytest.raises(FlowNotUsable):
        complete_login(stranger, flow)

    assert SESSION_KEY not in stranger.session
    flow.refresh_from_db()
    assert flow.logged_in_at is None


@pytest.mark.parametrize("flow_id", ["junk", "00000000-0000-4000-8000-000000000000"])
def test_complete_login_refuses_an_unknown_or_malformed_flow_id(db: Any, flow_id: str) -> None:
    with pytest.raises(FlowNotUsable):
        complete_login(session_request(), flow_id)


def test_claim_verified_flow_returns_the_user_once_for_token_sites(
    flow: AuthFlow, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with pytest.raises(FlowNotUsable):
        claim_verified_flow(flow.id)
    _verify(flow, outbox, django_capture_on_commit_callbacks)

    assert claim_verified_flow(flow.id) == flow.user
    with pytest.raises(FlowNotUsable):
        claim_verified_flow(flow.id)
