"""The send path through a real broker and a real Celery worker process.

The worker runs ``tests.celery_app`` with the filebased backend; these tests read the files
it writes. Sending happens only after the enrolment's transaction commits, so the tests use
a transactional database.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.utils import timezone

from intelliauth_sms import crypto
from intelliauth_sms.models import (
    AuditEvent,
    EventType,
    MessageStatus,
    SmsCode,
    SmsFactor,
    SmsMessage,
)
from intelliauth_sms.services import dispatch, enrolment
from tests.concurrency.conftest import Worker, wait_for
from tests.conftest import CODE_IN_SMS

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PHONE = "+14155550100"
NATIONAL = "4155550100"


def _final_status(message_id: Any) -> str | None:
    status = SmsMessage.objects.filter(pk=message_id).values_list("status", flat=True).first()
    return status if status not in (MessageStatus.QUEUED, MessageStatus.SENDING) else None


def test_the_worker_sends_one_sms_whose_code_completes_the_enrolment(
    worker: Worker, api: Any, user: Any, outbox: list[Any]
) -> None:
    started = api.post("/api/mfa/sms/enrolments/", {"phone_number": PHONE}, format="json")
    assert started.status_code == 201, started.content
    message = SmsMessage.objects.get(subject_id=started.json()["id"])

    status = wait_for(lambda: _final_status(message.pk), what="the SMS", worker=worker)

    assert status == MessageStatus.SENT, worker.log_tail()
    [sms] = wait_for(worker.sent, what="the SMS file", worker=worker)
    assert sms["to"] == PHONE
    [code] = CODE_IN_SMS.findall(sms["body"])
    message.refresh_from_db()
    assert message.phone_number == ""  # the destination is not kept once used
    assert message.sent_at is not None

    done = api.post(
        f"/api/mfa/sms/enrolments/{started.json()['id']}/complete/", {"code": code}, format="json"
    )
    assert done.status_code == 201, done.content
    assert SmsFactor.objects.get(user=user).phone_last4 == "0100"
    # Exactly one SMS for one send: a second file would mean a duplicate delivery.
    assert len(worker.sms_files()) == 1
    assert outbox == []  # the worker sent it, not this process


def test_a_code_that_expired_while_queued_is_not_sent(
    worker: Worker, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[tuple[str, str]] = []
    monkeypatch.setattr(dispatch, "deliver_sms", lambda *args: held.append(args))
    _pending, issued = enrolment.start_enrolment(user, PHONE)
    monkeypatch.undo()
    assert len(held) == 1, "the delivery task is enqueued once the enrolment commits"
    SmsCode.objects.filter(pk=issued.code.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    dispatch.deliver_sms(*held[0])  # the worker picks it up after the code expired
    status = wait_for(lambda: _final_status(issued.message.pk), what="the task", worker=worker)

    assert status == MessageStatus.EXPIRED
    assert worker.sms_files() == []
    message = SmsMessage.objects.get(pk=issued.message.pk)
    assert message.phone_number == "" and message.sent_at is None
    not_sent = AuditEvent.objects.get(event_type=EventType.SMS_NOT_SENT_EXPIRED)
    assert not_sent.failure_code == "code_expired" and not_sent.phone_last4 == "0100"


def test_a_code_replaced_while_queued_is_not_sent_but_its_replacement_is(
    worker: Worker, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[tuple[str, str]] = []
    monkeypatch.setattr(dispatch, "deliver_sms", lambda *args: held.append(args))
    pending, first = enrolment.start_enrolment(user, PHONE)
    monkeypatch.undo()
    _pending, second = enrolment.resend_enrolment_code(user, pending.id)  # goes to the worker
    wait_for(lambda: _final_status(second.message.pk), what="the resent SMS", worker=worker)

    dispatch.deliver_sms(*held[0])
    status = wait_for(lambda: _final_status(first.message.pk), what="the task", worker=worker)

    assert status == MessageStatus.EXPIRED
    [sms] = worker.sent()
    assert sms["to"] == PHONE
    assert SmsMessage.objects.get(pk=second.message.pk).status == MessageStatus.SENT


def test_the_task_payload_on_the_broker_holds_neither_the_number_nor_the_code(
    worker: Worker, api: Any
) -> None:
    published: list[dict[str, Any]] = []

    def record(sender: Any = None, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        published.append({"task": sender, "body": body, "headers": headers, **kwargs})

    before_task_publish.connect(record, weak=False)
    try:
        started = api.post("/api/mfa/sms/enrolments/", {"phone_number": PHONE}, format="json")
    finally:
        before_task_publish.disconnect(record)
    assert started.status_code == 201, started.content
    message = SmsMessage.objects.get(subject_id=started.json()["id"])
    wait_for(lambda: _final_status(message.pk), what="the SMS", worker=worker)
    [sms] = worker.sent()
    [code] = CODE_IN_SMS.findall(sms["body"])

    [delivery] = [p for p in published if p["task"] == "intelliauth_sms.deliver_sms"]
    assert delivery["routing_key"] == worker.queue
    args, kwargs, _embed = delivery["body"]
    # Only the message id and the code sealed with FIELD_ENCRYPTION_KEY travel.
    assert args[0] == str(message.pk) and kwargs == {}
    assert crypto.decrypt_secret(args[1]) == code
    everything = repr(delivery["body"]) + repr(delivery["headers"])
    for secret in (PHONE, NATIONAL, code):
        assert secret not in everything, f"{secret!r} is in the task payload"
