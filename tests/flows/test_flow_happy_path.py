"""The sign-in SMS step end to end: start, initiate, complete, log in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from intelliauth_sms.flows import start_flow
from tests.conftest import last_code
from tests.factories import SmsFactorFactory


@pytest.fixture
def enrolled(user: Any) -> Any:
    return SmsFactorFactory(user=user, phone="+14155550100")


def test_initiate_then_complete_verifies_an_unbound_flow(
    enrolled: Any, anon_api: Any, outbox: list[Any]
) -> None:
    flow = start_flow(enrolled.user)
    sent = anon_api.post(f"/api/mfa/sms/flows/{flow.id}/sms/initiate/", {}, format="json")
    assert sent.status_code == 202, sent.content
    assert set(sent.json()) == {"status", "phone_number_masked", "expires_at"}
    assert outbox[-1].to == "+14155550100"

    done = anon_api.post(
        f"/api/mfa/sms/flows/{flow.id}/sms/complete/", {"code": last_code(outbox)}, format="json"
    )
    assert done.status_code == 200, done.content
    assert done.json() == {"status": "verified"}
    flow.refresh_from_db()
    assert flow.is_verified


def test_a_session_bound_flow_is_not_found_from_another_session(
    enrolled: Any, anon_api: Any, outbox: list[Any]
) -> None:
    request = RequestFactory().post("/login/")
    from django.contrib.sessions.backends.db import SessionStore

    request.session = SessionStore()
    flow = start_flow(enrolled.user, request=request)
    answer = anon_api.post(f"/api/mfa/sms/flows/{flow.id}/sms/initiate/", {}, format="json")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert outbox == []
