"""Transient failures retried with backoff while the code is valid; permanent ones final;
a task run twice sends once; the sweep re-issues a message whose task was lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from celery import current_app
from django.test import override_settings

from intelliauth_sms import tasks
from intelliauth_sms.backends import BaseSmsBackend, OutgoingSms, SmsBackendError
from intelliauth_sms.crypto import decrypt_secret
from intelliauth_sms.exceptions import CodeExpired
from intelliauth_sms.models import (
    AuditEvent,
    CodeState,
    EventType,
    MessageStatus,
    SmsMessage,
)
from intelliauth_sms.services import delivery, dispatch, requeue
from intelliauth_sms.services.delivery import (
    MAX_SEND_ATTEMPTS,
    RETRY_MIN_REMAINING_SECONDS,
    deliver,
    retry_delay,
)
from intelliauth_sms.services.delivery_status import (
    EARLY_REPORT_FIRST_DELAY,
    EARLY_REPORT_RETRY_DELAYS,
    EARLY_REPORT_SECONDS,
    apply_early_report,
    record_delivery_report,
)
from tests.conftest import last_code
from tests.core.conftest import Sent, SmsDriver

pytestmark = pytest.mark.django_db

SCRIPTED = "tests.core.test_delivery_retries.ScriptedBackend"


class ScriptedBackend(BaseSmsBackend):
    """Answers each send with the next scripted outcome: an error to raise or an id."""

    script: list[SmsBackendError | str] = []
    sent: list[OutgoingSms] = []

    def send(self, sms: OutgoingSms) -> str:
        self.sent.append(sms)
        outcome = self.script.pop(0) if self.script else "SM-ok"
        if isinstance(outcome, SmsBackendError):
            raise outcome
        return outcome


def transient(code: str = "20429") -> SmsBackendError:
    return SmsBackendError(
        "busy", backend="scripted", status=429, transient=True, provider_code=code
    )


def permanent() -> SmsBackendError:
    return SmsBackendError("invalid 'To'", backend="scripted", status=400, provider_code="21211")


@pytest.fixture
def scripted() -> Iterator[type[ScriptedBackend]]:
    ScriptedBackend.script = []
    ScriptedBackend.sent = []
    with override_settings(INTELLIAUTH_SMS={"SMS_BACKEND": SCRIPTED}):
        yield ScriptedBackend


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Delivery tasks published but not run: ``(message_id, sealed_code)``."""
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(dispatch, "deliver_sms", lambda *args: calls.append(args) or True)
    return calls


def queued_message(sms: SmsDriver, caller: Any, held: list[tuple[str, ...]]) -> Sent:
    sent = sms.send(caller, deliver=False)
    sent.callbacks[0]()
    assert len(held) == 1 and sent.message.status == MessageStatus.QUEUED
    return sent


# --- the delay ------------------------------------------------------------------------------


def test_the_retry_delay_doubles_up_to_a_minute_and_its_jitter_stays_within_half_a_step() -> None:
    shortest = [retry_delay(n, randbelow=lambda _bound: 0) for n in range(1, 8)]
    longest = [retry_delay(n, randbelow=lambda bound: bound - 1) for n in range(1, 8)]

    assert shortest == [3, 5, 10, 20, 30, 30, 30]
    assert longest == [5, 10, 20, 40, 60, 60, 60]
    assert all(3 <= retry_delay(1) <= 5 for _ in range(50))


# --- transient failures ---------------------------------------------------------------------


def test_a_transient_failure_queues_the_message_again_and_the_retry_sends_it(
    sms: SmsDriver, caller: Any, scripted: Any, held: list[Any], clock: Any
) -> None:
    sent = queued_message(sms, caller, held)
    scripted.script = [transient()]
    message_id, sealed, _language = held[0]

    first = deliver(message_id, sealed)

    assert first.status == MessageStatus.QUEUED and first.retry_in is not None
    assert 3 <= first.retry_in <= 5
    message = sent.message
    assert message.attempts == 1 and message.provider_error == "20429"
    assert message.due_at == sent.issued.message.created_at + timedelta(seconds=first.retry_in)
    assert message.phone_number != ""  # still needed for the retry
    assert sent.sms_code.state == CodeState.ACTIVE
    retried = AuditEvent.objects.get(event_type=EventType.SMS_DELIVERY_RETRIED)
    assert retried.detail["retry_in"] == first.retry_in and retried.phone_last4 == "0100"

    clock.shift(first.retry_in)
    second = deliver(message_id, sealed)

    assert second.status == MessageStatus.SENT and second.retry_in is None
    message = sent.message
    assert (message.attempts, message.provider_message_id, message.provider_error) == (
        2,
        "SM-ok",
        "",
    )
    assert message.phone_number == ""
    assert [s.to for s in scripted.sent] == ["+14155550100", "+14155550100"]


def test_no_retry_is_planned_that_would_arrive_with_too_little_of_the_code_left(
    sms: SmsDriver, caller: Any, scripted: Any, held: list[Any], clock: Any
) -> None:
    sent = queued_message(sms, caller, held)
    expires_at = sent.sms_code.expires_at
    # Any delay (3 s at least) would leave less than the minimum.
    clock.move_to(expires_at - timedelta(seconds=RETRY_MIN_REMAINING_SECONDS + 2))
    scripted.script = [transient()]

    outcome = deliver(*held[0][:2])

    assert outcome.status == MessageStatus.FAILED and outcome.retry_in is None
    assert sent.sms_code.state == CodeState.UNSENT
    failed = AuditEvent.objects.get(event_type=EventType.SMS_DELIVERY_FAILED)
    assert failed.detail["provider_error"] == "20429" and failed.detail["attempts"] == 1


def test_retries_stop_after_the_last_attempt_even_with_time_left(
    sms: SmsDriver, caller: Any, scripted: Any, held: list[Any], clock: Any, default_tenant: Any
) -> None:
    from tests.core.conftest import policy_of

    policy_of(default_tenant, code_ttl_seconds=600)
    sent = queued_message(sms, caller, held)
    scripted.script = [transient() for _ in range(MAX_SEND_ATTEMPTS + 2)]
    outcomes = []
    for _ in range(MAX_SEND_ATTEMPTS + 2):
        outcome = deliver(*held[0][:2])
        outcomes.append(outcome.status)
        if outcome.retry_in is None:
            break
        clock.shift(outcome.retry_in)

    assert outcomes == [MessageStatus.QUEUED] * (MAX_SEND_ATTEMPTS - 1) + [MessageStatus.FAILED]
    assert len(scripted.sent) == MAX_SEND_ATTEMPTS == sent.message.attempts


def test_the_task_schedules_its_retry_with_the_planned_delay(
    sms: SmsDriver, caller: Any, scripted: Any, held: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    queued_message(sms, caller, held)
    scripted.script = [transient()]
    monkeypatch.setattr(delivery.secrets, "randbelow", lambda bound: 0)
    scheduled: list[dict[str, Any]] = []

    def fake_retry(**options: Any) -> str:
        scheduled.append(options)
        return "retry planned"

    monkeypatch.setattr(tasks.deliver_sms, "retry", fake_retry)

    assert tasks.deliver_sms.apply(args=held[0]).get() == "retry planned"
    assert scheduled == [{"countdown": 3, "throw": False}]


def test_run_eagerly_the_task_retries_at_once_and_sends_once(
    sms: SmsDriver, caller: Any, scripted: Any, held: list[Any], outbox: list[Any]
) -> None:
    sent = queued_message(sms, caller, held)
    scripted.script = [transient(), transient()]

    tasks.deliver_sms.apply(args=held[0])

    assert sent.message.status == MessageStatus.SENT and sent.message.attempts == 3
    assert len(scripted.sent) == 3


# --- permanent failures ---------------------------------------------------------------------


def test_a_permanent_failure_is_not_retried_and_its_code_then_answers_code_expired(
    sms: SmsDriver, caller: Any, scripted: Any, held: list[Any]
) -> None:
    sent = queued_message(sms, caller, held)
    scripted.script = [permanent()]
    code = decrypt_secret(held[0][1])

    outcome = deliver(*held[0][:2])

    assert outcome == delivery.Delivery(MessageStatus.FAILED)
    message = sent.message
    assert (message.status, message.provider_error, message.attempts) == ("failed", "21211", 1)
    assert message.phone_number == ""
    assert sent.sms_code.state == CodeState.UNSENT
    with pytest.raises(CodeExpired):
        sms.check(caller, sent.subject, code)


# --- exactly once ---------------------------------------------------------------------------


def test_a_task_delivered_twice_sends_one_sms(
    sms: SmsDriver, caller: Any, held: list[Any], outbox: list[Any]
) -> None:
    sent = queued_message(sms, caller, held)

    results = [tasks.deliver_sms.apply(args=held[0]).get() for _ in range(2)]

    assert results == ["sent", None]
    assert len(outbox) == 1 and sent.message.attempts == 1


def test_a_task_redelivered_while_the_first_run_is_sending_sends_nothing(
    sms: SmsDriver, caller: Any, held: list[Any], outbox: list[Any]
) -> None:
    sent = queued_message(sms, caller, held)
    SmsMessage.objects.filter(pk=sent.issued.message.pk).update(status=MessageStatus.SENDING)

    assert deliver(*held[0][:2]).status is None
    assert outbox == []


# --- the sweep ------------------------------------------------------------------------------


def test_the_sweep_leaves_messages_that_are_not_yet_overdue(
    sms: SmsDriver, caller: Any, held: list[Any], clock: Any
) -> None:
    queued_message(sms, caller, held)
    clock.shift(requeue.SWEEP_AFTER_SECONDS - 1)

    assert requeue.sweep_queued() == requeue.SweepReport(requeued=0, expired=0)


def test_the_sweep_sends_a_lost_message_with_a_new_code_and_the_lost_task_then_does_nothing(
    sms: SmsDriver,
    caller: Any,
    held: list[Any],
    clock: Any,
    outbox: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent = queued_message(sms, caller, held)
    lost_task = held[0]
    monkeypatch.undo()  # the broker is back: the sweep's task runs (eagerly)
    clock.shift(requeue.SWEEP_AFTER_SECONDS)

    with django_capture_on_commit_callbacks(execute=True):
        report = requeue.sweep_queued()

    assert report == requeue.SweepReport(requeued=1, expired=0)
    assert len(outbox) == 1 and sent.message.status == MessageStatus.SENT
    new_code = last_code(outbox)
    assert AuditEvent.objects.filter(event_type=EventType.SMS_REQUEUED).count() == 1
    assert deliver(*lost_task[:2]).status is None  # the old copy finds a code not its own
    assert len(outbox) == 1
    assert sms.check(caller, sent.subject, new_code).state == CodeState.USED


def test_the_sweep_marks_a_message_whose_code_expired_as_expired(
    sms: SmsDriver, caller: Any, held: list[Any], clock: Any, outbox: list[Any]
) -> None:
    sent = queued_message(sms, caller, held)
    clock.move_to(sent.sms_code.expires_at + timedelta(seconds=1))

    assert requeue.sweep_queued() == requeue.SweepReport(requeued=0, expired=1)
    assert sent.message.status == MessageStatus.EXPIRED and outbox == []
    assert sent.message.phone_number == ""


def test_the_sweep_task_is_registered_for_beat(
    sms: SmsDriver, caller: Any, held: list[Any]
) -> None:
    assert "intelliauth_sms.sweep_queued" in current_app.tasks
    assert tasks.sweep_queued.apply().get() == {"requeued": 0, "expired": 0}


# --- delivery reports before the provider id is saved ---------------------------------------


@pytest.fixture
def early_tasks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Early-report tasks published but not run: ``(provider id, countdown)``."""
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(dispatch, "early_delivery_report", lambda *args: calls.append(args) or True)
    return calls


def test_a_report_that_outruns_the_send_is_kept_and_applied_by_its_task_once_the_id_is_saved(
    sms: SmsDriver,
    caller: Any,
    scripted: Any,
    held: list[Any],
    early_tasks: list[tuple[str, int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent = queued_message(sms, caller, held)
    scripted.script = ["SM-early"]

    with django_capture_on_commit_callbacks(execute=True):
        assert not record_delivery_report("SM-early", MessageStatus.DELIVERED, provider="twilio")
    assert early_tasks == [("SM-early", EARLY_REPORT_FIRST_DELAY)]
    deliver(*held[0][:2])
    # The send path does not look for it: the task does.
    assert sent.message.status == MessageStatus.SENT

    assert tasks.apply_early_delivery_report.apply(args=["SM-early"]).get() is None
    assert sent.message.status == MessageStatus.DELIVERED
    assert AuditEvent.objects.filter(event_type=EventType.SMS_DELIVERED).count() == 1
    # Applied once: a second run of the task finds nothing kept.
    assert apply_early_report("SM-early") is False
    assert AuditEvent.objects.filter(event_type=EventType.SMS_DELIVERED).count() == 1


def test_the_early_report_task_tries_again_while_the_id_is_unknown_then_drops_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_delivery_report("SM-nobody", MessageStatus.DELIVERED, provider="twilio")
    countdowns: list[int] = []
    monkeypatch.setattr(
        tasks.apply_early_delivery_report,
        "retry",
        lambda countdown, throw: countdowns.append(countdown),
    )

    for retries in range(len(EARLY_REPORT_RETRY_DELAYS) + 1):
        tasks.apply_early_delivery_report.apply(args=["SM-nobody"], retries=retries)

    assert countdowns == list(EARLY_REPORT_RETRY_DELAYS)
    assert sum(EARLY_REPORT_RETRY_DELAYS) + EARLY_REPORT_FIRST_DELAY < EARLY_REPORT_SECONDS
    assert apply_early_report("SM-nobody") is None  # still kept, still unknown


def test_of_two_early_reports_the_one_further_along_is_kept(
    sms: SmsDriver, caller: Any, scripted: Any, held: list[Any], early_tasks: list[Any]
) -> None:
    sent = queued_message(sms, caller, held)
    scripted.script = ["SM-early"]
    record_delivery_report("SM-early", MessageStatus.DELIVERED, provider="twilio")
    record_delivery_report("SM-early", MessageStatus.SENT, provider="twilio")  # out of order
    deliver(*held[0][:2])

    assert apply_early_report("SM-early") is True
    assert sent.message.status == MessageStatus.DELIVERED


def test_the_early_report_task_is_published_with_its_delay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    published: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    # Published, as on a site with a broker (the tests otherwise run tasks eagerly).
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(
        tasks.apply_early_delivery_report,
        "apply_async",
        lambda args, **options: published.append((tuple(args), options)),
    )

    assert dispatch.early_delivery_report("SM-1", 5)

    assert published[0][0] == ("SM-1",) and published[0][1]["countdown"] == 5


# --- the worker's cost ----------------------------------------------------------------------


def test_a_delivery_costs_two_queries_the_claim_and_the_outcome(
    sms: SmsDriver,
    caller: Any,
    held: list[Any],
    outbox: list[Any],
    django_assert_num_queries: Any,
) -> None:
    sent = queued_message(sms, caller, held)

    with django_assert_num_queries(2):
        outcome = deliver(*held[0][:2])

    assert outcome.status == MessageStatus.SENT and len(outbox) == 1
    assert sent.message.status == MessageStatus.SENT


def test_a_message_queued_before_payload_checks_existed_is_still_claimed(
    sms: SmsDriver, caller: Any, held: list[Any], outbox: list[Any]
) -> None:
    sent = queued_message(sms, caller, held)
    SmsMessage.objects.filter(pk=sent.issued.message.pk).update(payload_check="")

    assert deliver(*held[0][:2]).status == MessageStatus.SENT
    assert len(outbox) == 1
