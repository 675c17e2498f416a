"""The broker is unreachable when a request wants to send (CONTRACT §7, issue 7 finding).

The request answers the contract's JSON (never an HTML 500), everything it wrote is kept
and consistent, the message stays ``queued`` for a later sweep, and the audit trail says
why it has not gone out. The broker here is a real Celery app pointed at a closed port.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery, current_app

from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import AuditEvent, MessageStatus, PendingEnrolment, SmsMessage
from tests.api import PHONE, enrolments_url, resend_url
from tests.factories import SmsFactorFactory


@pytest.fixture
def broker_down() -> Iterator[Celery]:
    """Celery's current app publishes to 127.0.0.1:1, where nothing listens."""
    previous = current_app._get_current_object()
    app = Celery("broker-down", set_as_current=True)
    # The write URL: Celery lets a CELERY_BROKER_URL environment variable (the services
    # tier sets one) override broker_url, but not this.
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    app.conf.task_always_eager = False
    app.conf.broker_connection_timeout = 1
    try:
        yield app
    finally:
        previous.set_current()


def assert_queued_and_audited(outbox: list[Any], count: int = 1) -> None:
    assert outbox == []
    assert SmsMessage.objects.filter(status=MessageStatus.QUEUED).count() == count
    unavailable = AuditEvent.objects.filter(event_type="sms_queue_unavailable")
    assert unavailable.count() == count
    assert all(e.phone_last4 == PHONE[-4:] and e.outcome == "failure" for e in unavailable)


def test_starting_an_enrolment_answers_its_json_and_keeps_the_message_queued(
    broker_down: Celery, api: Any, outbox: list[Any], caplog: Any
) -> None:
    began = time.monotonic()
    response = api.post(enrolments_url(), {"phone_number": PHONE}, format="json")

    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["kind"] == "pending"
    assert time.monotonic() - began < 10  # a dead broker does not hang the request
    assert PendingEnrolment.objects.count() == 1
    assert_queued_and_audited(outbox)
    assert PHONE not in caplog.text and PHONE[1:] not in caplog.text


def test_a_resend_and_a_sign_in_initiate_answer_their_json(
    broker_down: Celery, api: Any, anon_api: Any, user: Any, outbox: list[Any]
) -> None:
    started = api.post(enrolments_url(), {"phone_number": PHONE}, format="json")
    resent = api.post(resend_url(started.json()["id"]), {}, format="json")
    assert resent.status_code == 202, resent.content

    SmsFactorFactory(user=user, phone=PHONE)
    flow = start_flow(user)
    initiated = anon_api.post(f"/api/mfa/sms/flows/{flow.id}/sms/initiate/", {}, format="json")
    assert initiated.status_code == 202, initiated.content
    assert initiated.json()["status"] == "pending"
    assert_queued_and_audited(outbox, count=3)


def test_a_notice_email_that_cannot_be_queued_does_not_fail_the_request(
    broker_down: Celery, api: Any, user: Any, outbox: list[Any]
) -> None:
    factor = SmsFactorFactory(user=user, phone=PHONE)
    response = api.delete(f"/api/mfa/sms/factors/{factor.id}/")
    assert response.status_code == 204
