"""Delivery: what the task carries, and that a queued SMS is sent at most once, if still valid."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from celery import current_app
from celery.signals import task_prerun
from django.db import connection
from django.test import override_settings
from django.utils import translation
from encrypted_model_fields.fields import decrypt_str

from intelliauth_sms.backends import BaseSmsBackend, OutgoingSms, SmsBackendError
from intelliauth_sms.crypto import decrypt_secret, encrypt_secret
from intelliauth_sms.models import AuditEvent, EventType, MessageStatus, Outcome, SmsMessage
from intelliauth_sms.services import dispatch
from intelliauth_sms.services.delivery import deliver
from tests.conftest import last_code
from tests.core.conftest import US, wrong

pytestmark = pytest.mark.django_db

NATIONAL = US[2:]  # 4155550100


class ExplodingBackend(BaseSmsBackend):
    """A provider that is down."""

    attempts: list[OutgoingSms] = []

    def send(self, sms: OutgoingSms) -> str:
        self.attempts.append(sms)
        raise SmsBackendError("provider said no", backend="exploding", status=503)


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Record each enqueued task instead of running it: ``(task, *args)``."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        dispatch, "publish", lambda name, *args: calls.append((current_app.tasks[name], *args))
    )
    return calls


def run_queued(queued: list[tuple[Any, ...]]) -> list[Any]:
    return [task.apply(args=args).get() for task, *args in queued]


def test_the_task_payload_holds_neither_the_number_nor_the_code(
    sms: Any, caller: Any, monkeypatch: pytest.MonkeyPatch, outbox: list[Any]
) -> None:
    published: list[tuple[Any, ...]] = []
    real_publish = dispatch.publish

    def spy(name: str, *args: Any) -> bool:
        published.append((name, args))
        return real_publish(name, *args)

    monkeypatch.setattr(dispatch, "publish", spy)
    seen_by_worker: list[Any] = []

    def on_prerun(sender: Any = None, args: Any = None, kwargs: Any = None, **_: Any) -> None:
        seen_by_worker.append((sender.name, args, kwargs))

    task_prerun.connect(on_prerun, weak=False)
    try:
        with translation.override("fr"):
            sent = sms.send(caller)
    finally:
        task_prerun.disconnect(on_prerun)

    assert [name for name, _args in published] == ["intelliauth_sms.deliver_sms"]
    assert seen_by_worker and seen_by_worker[0][0] == "intelliauth_sms.deliver_sms"
    payload = repr(published) + repr(seen_by_worker)
    for secret in (sent.code, US, NATIONAL, NATIONAL[-7:]):
        assert secret not in payload
    message_id, sealed, language = published[0][1]
    assert message_id == str(sent.issued.message.pk)
    assert language == "fr"  # the language of the request travels too
    assert decrypt_secret(sealed) == sent.code  # the code travels, encrypted
    assert outbox[-1].to == US


def test_delivery_is_enqueued_only_when_the_transaction_commits(
    sms: Any, caller: Any, outbox: list[Any], queued: list[tuple[Any, ...]]
) -> None:
    sent = sms.send(caller, deliver=False)

    assert queued == [] and outbox == []
    assert len(sent.callbacks) == 1
    sent.callbacks[0]()
    assert [task.name for task, *_args in queued] == ["intelliauth_sms.deliver_sms"]


def raw_destination(message_id: Any) -> str:
    """The ``phone_number`` column as stored (encrypted)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone_number FROM intelliauth_sms_smsmessage WHERE id = %s", [message_id.hex]
        )
        (value,) = cursor.fetchone()
    return str(value)


def test_a_delivered_message_is_sent_and_forgets_its_destination(
    sms: Any, caller: Any, outbox: list[Any]
) -> None:
    sent = sms.send(caller, deliver=False)
    stored = raw_destination(sent.issued.message.pk)
    assert NATIONAL not in stored and decrypt_str(stored) == US  # encrypted while queued

    sent.callbacks[0]()

    message = sent.message
    assert outbox[-1].to == US and len(outbox) == 1
    assert message.status == MessageStatus.SENT and message.sent_at is not None
    assert message.provider_message_id == "locmem-1"
    assert message.phone_number == ""
    assert raw_destination(message.pk) == ""  # empty, not a token of ""
    assert message.phone_last4 == "0100"  # what audit and admin may still show
    # The sweep, the clean-up and the partial index of unsent messages no longer see it.
    assert not SmsMessage.objects.filter(pk=message.pk).exclude(phone_number="").exists()


def test_a_queued_message_for_an_expired_code_is_not_sent(
    sms: Any, caller: Any, clock: Any, outbox: list[Any], queued: list[tuple[Any, ...]]
) -> None:
    sent = sms.send(caller, deliver=False)
    sent.callbacks[0]()
    clock.shift(300)

    assert run_queued(queued) == [None]

    assert outbox == []
    message = sent.message
    assert message.status == MessageStatus.EXPIRED and message.phone_number == ""
    event = AuditEvent.objects.get(event_type=EventType.SMS_NOT_SENT_EXPIRED)
    assert (event.outcome, event.failure_code, event.phone_last4) == (
        Outcome.FAILURE,
        "code_expired",
        "0100",
    )


def test_a_queued_message_still_valid_just_before_expiry_is_sent(
    sms: Any, caller: Any, clock: Any, outbox: list[Any], queued: list[tuple[Any, ...]]
) -> None:
    sent = sms.send(caller, deliver=False)
    sent.callbacks[0]()
    clock.shift(299)

    assert run_queued(queued) == ["sent"]
    assert len(outbox) == 1


def test_a_queued_message_for_a_replaced_code_is_not_sent(
    sms: Any, caller: Any, outbox: list[Any], queued: list[tuple[Any, ...]]
) -> None:
    first = sms.send(caller, deliver=False)
    second = sms.send(caller, subject=first.subject, deliver=False)
    for callback in first.callbacks + second.callbacks:
        callback()

    assert run_queued(queued) == [None, "sent"]

    assert len(outbox) == 1
    assert first.message.status == MessageStatus.EXPIRED
    assert second.message.status == MessageStatus.SENT


def test_a_redelivered_task_sends_only_once(
    sms: Any, caller: Any, outbox: list[Any], queued: list[tuple[Any, ...]]
) -> None:
    sent = sms.send(caller, deliver=False)
    sent.callbacks[0]()

    assert run_queued(queued * 3) == ["sent", None, None]
    assert len(outbox) == 1
    assert sent.message.status == MessageStatus.SENT


def test_a_message_being_sent_is_not_sent_again(
    sms: Any, caller: Any, outbox: list[Any], queued: list[tuple[Any, ...]]
) -> None:
    sent = sms.send(caller, deliver=False)
    sent.callbacks[0]()
    SmsMessage.objects.filter(pk=sent.issued.message.pk).update(status=MessageStatus.SENDING)

    assert run_queued(queued) == [None]
    assert outbox == []


@override_settings(INTELLIAUTH_SMS={"SMS_BACKEND": "tests.core.test_delivery.ExplodingBackend"})
def test_a_backend_error_marks_the_message_failed_and_is_audited(
    sms: Any, caller: Any, queued: list[tuple[Any, ...]], caplog: pytest.LogCaptureFixture
) -> None:
    ExplodingBackend.attempts.clear()
    sent = sms.send(caller, deliver=False)
    sent.callbacks[0]()

    assert run_queued(queued) == ["failed"]

    assert len(ExplodingBackend.attempts) == 1
    code = last_code(ExplodingBackend.attempts)
    message = sent.message
    assert message.status == MessageStatus.FAILED and message.sent_at is None
    assert message.phone_number == ""
    assert "exploding" in message.error and "503" in message.error
    assert code not in message.error
    event = AuditEvent.objects.get(event_type=EventType.SMS_DELIVERY_FAILED)
    assert (event.outcome, event.user, event.phone_last4) == (Outcome.FAILURE, caller.user, "0100")
    for record in caplog.records:
        assert code not in record.getMessage() and US not in record.getMessage()
    # A failed message is final: running the task again does not retry into a double send.
    assert run_queued(queued) == [None]
    assert len(ExplodingBackend.attempts) == 1


def test_a_payload_sealing_another_code_sends_nothing_and_leaves_the_message_to_its_own_task(
    sms: Any, caller: Any, outbox: list[Any], queued: list[tuple[Any, ...]]
) -> None:
    sent = sms.send(caller, deliver=False)
    sent.callbacks[0]()
    (_task, message_id, sealed, _language) = queued[0]
    forged = encrypt_secret(wrong(decrypt_secret(sealed)))

    assert deliver(message_id, forged).status is None
    sent.message.refresh_from_db()
    assert outbox == [] and sent.message.status == MessageStatus.QUEUED

    # The task holding the message's current code still sends it, once.
    assert deliver(message_id, sealed).status == MessageStatus.SENT
    assert [sms.body for sms in outbox] == [
        f"Your verification code is {decrypt_secret(sealed)}. It expires in 5 minutes."
    ]


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda sealed: sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:],
        lambda sealed: "not a token",
        lambda sealed: "é" * 40,
    ],
    ids=["flipped", "garbage", "non-ascii"],
)
def test_a_corrupted_payload_sends_nothing(
    sms: Any, caller: Any, outbox: list[Any], queued: list[tuple[Any, ...]], corrupt: Any
) -> None:
    sent = sms.send(caller, deliver=False)
    sent.callbacks[0]()
    (_task, message_id, sealed, _language) = queued[0]

    assert deliver(message_id, corrupt(sealed)).status is None
    sent.message.refresh_from_db()
    assert outbox == [] and sent.message.status == MessageStatus.QUEUED
    assert sent.message.phone_number != ""  # kept for the task that can send it


def test_a_task_for_an_unknown_message_does_nothing(outbox: list[Any], db: Any) -> None:
    import uuid

    assert deliver(str(uuid.uuid4()), encrypt_secret("123456")).status is None
    assert deliver("not-a-uuid", encrypt_secret("123456")).status is None
    assert outbox == []


def test_the_sms_text_names_the_code_and_its_life_in_minutes(
    sms: Any, caller: Any, outbox: list[Any], default_tenant: Any
) -> None:
    from intelliauth_sms.models import TenantPolicy

    TenantPolicy.objects.filter(tenant=default_tenant).update(code_ttl_seconds=600)
    sent = sms.send(caller)

    assert outbox[-1].body == (f"Your verification code is {sent.code}. It expires in 10 minutes.")
    assert sent.sms_code.expires_at - sent.sms_code.created_at == timedelta(minutes=10)
