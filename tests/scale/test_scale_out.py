"""Several web processes and workers on one PostgreSQL and one Redis (CONTRACT §7): limits
stay exact, each message reaches the provider once, a worker killed mid-send (its pool
process, or the whole worker) sends nothing twice, a whole worker killed before its claim
loses nothing, and a broker that was down loses nothing."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings

from intelliauth_sms.models import (
    AuditEvent,
    EventType,
    MessageStatus,
    SmsFactor,
    SmsMessage,
    TenantPolicy,
)
from tests.concurrency.conftest import run_concurrently
from tests.factories import UserFactory
from tests.scale.conftest import ClaimReport, FakeTwilio, Stack, code_in, wait_until
from tests.scale.site import token_for

pytestmark = [pytest.mark.scale]

ENROL = "/api/mfa/sms/enrolments/"
FINAL = (MessageStatus.SENT, MessageStatus.DELIVERED)


def visibility_timeout() -> float:
    """How long the broker leaves a message unacknowledged before a live worker's scan puts
    it back in the queue (the tier's settings, which its workers run on; read when a test
    runs, so collecting this module needs no services)."""
    return float(settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"])


def number(index: int) -> str:
    """Distinct valid US numbers (555-01xx is reserved for fiction)."""
    return f"+1415555{index:04d}"


def ip(index: int) -> str:
    return f"198.51.{index // 250}.{index % 250 + 1}"


def redelivered_and_done(logs: str) -> bool:
    """A delivery task that the workers received twice ran to the end the second time,
    finding nothing to do (it returned ``None``)."""
    received = Counter(re.findall(r"deliver_sms\[([0-9a-f-]+)\] received", logs))
    did_nothing = set(re.findall(r"deliver_sms\[([0-9a-f-]+)\] succeeded in [\d.]+s: None", logs))
    return any(count >= 2 and task in did_nothing for task, count in received.items())


def given_back(fake: FakeTwilio, first: ClaimReport) -> ClaimReport | None:
    """The next run of the message that ``first`` was running, once a worker started it."""
    later = fake.claims_of(first.message_id)[1:]
    return later[0] if later else None


def result_of(logs: str, task_id: str) -> str | None:
    """What delivery task ``task_id`` returned (its repr) in ``logs``, once it has ended."""
    line = rf"deliver_sms\[{re.escape(task_id)}\] succeeded in [\d.]+s: (.*)$"
    match = re.search(line, logs, re.MULTILINE)
    return match.group(1) if match else None


@dataclass(frozen=True)
class GivenBack:
    """A task whose whole worker was killed, as the broker gave it back to another."""

    holder: str  # the worker killed
    again: ClaimReport  # the other worker's report of the task, before its claim
    survivor: str  # that worker
    result: str  # what the task returned there, as its log says


def kill_whole_worker_and_wait_for_its_task(
    scale: Stack, fake: FakeTwilio, first: ClaimReport, release: threading.Event
) -> GivenBack:
    """Kill the worker that reported ``first`` (main process and pool: nothing is left to
    give the task back), ``release`` what held it, and wait until the broker has put the
    task back (a live worker's scan, past the visibility timeout) and the other worker ran
    it."""
    holder = scale.worker_named(first.node)
    marks = scale.log_marks()
    scale.kill_whole(holder)
    release.set()
    again = wait_until(lambda: given_back(fake, first), what="the task to come back")
    survivor = scale.worker_named(again.node)
    result = wait_until(
        lambda: result_of(scale.logs_text(survivor, since=marks), first.task_id),
        what="the task given back to finish",
    )
    assert again.task_id == first.task_id and survivor != holder
    return GivenBack(holder, again, survivor, result)


def start_enrolment(scale: Stack, user: Any, target: str, address: str) -> Any:
    """POST an enrolment of ``target`` for ``user`` from ``address``; its 201 answer's body."""
    status, body = scale.request(
        "POST", ENROL, {"phone_number": target}, token=token_for(user), ip=address
    )
    assert status == 201, body
    return body


def message_and_first_claim(fake: FakeTwilio, user: Any) -> tuple[SmsMessage, ClaimReport]:
    """The user's one message, and the one delivery run that has claimed it so far."""
    message = SmsMessage.objects.get(user=user)
    [first] = fake.claims_of(message.pk)
    return message, first


def all_sent(message_ids: list[Any]) -> bool:
    statuses = SmsMessage.objects.filter(pk__in=message_ids).values_list("status", flat=True)
    return len(statuses) == len(message_ids) and all(s in FINAL for s in statuses)


def assert_each_message_handed_over_once(fake: FakeTwilio) -> None:
    """Every message the workers sent is one request at the provider, and vice versa."""
    sent = SmsMessage.objects.filter(status__in=FINAL)
    provider_ids = sorted(sent.values_list("provider_message_id", flat=True))
    assert provider_ids == sorted(sms.sid for sms in fake.received)
    codes = [code_in(sms.body) for sms in fake.received]
    assert len(set(codes)) == len(codes) or len(codes) < 2  # no SMS repeated


def test_one_users_enrolment_limit_is_exact_across_four_web_processes(
    scale: Stack, fake_twilio: FakeTwilio
) -> None:
    user = UserFactory()
    token = token_for(user)
    limit = TenantPolicy.objects.get(tenant__slug="default").enrolment_sms_per_hour

    answers = run_concurrently(
        24,
        lambda i: scale.request("POST", ENROL, {"phone_number": number(i)}, token=token, ip=ip(i)),
    )

    statuses = sorted(status for status, _body in answers)
    assert statuses == [201] * limit + [429] * (24 - limit)
    refused = [body for status, body in answers if status == 429]
    assert {body["error"]["code"] for body in refused} == {"rate_limited"}
    messages = list(SmsMessage.objects.filter(user=user).values_list("pk", flat=True))
    assert len(messages) == limit
    wait_until(lambda: all_sent(messages), what="the accepted SMS")
    assert len(fake_twilio.received) == limit
    assert_each_message_handed_over_once(fake_twilio)


def test_the_per_ip_and_per_destination_caps_are_exact_under_concurrency(
    scale: Stack, fake_twilio: FakeTwilio
) -> None:
    policy = TenantPolicy.objects.get(tenant__slug="default")
    users = [UserFactory() for _ in range(30)]
    shared_ip = "203.0.113.77"

    # 30 users, each their own number, all behind one address.
    by_ip = run_concurrently(
        30,
        lambda i: scale.request(
            "POST",
            ENROL,
            {"phone_number": number(100 + i)},
            token=token_for(users[i]),
            ip=shared_ip,
        ),
    )
    # 30 users, one number, each from their own address (a pumping or bombing pattern).
    target = number(999)
    others = [UserFactory() for _ in range(30)]
    by_destination = run_concurrently(
        30,
        lambda i: scale.request(
            "POST", ENROL, {"phone_number": target}, token=token_for(others[i]), ip=ip(i)
        ),
    )

    assert sum(status == 201 for status, _ in by_ip) == policy.ip_sms_per_hour
    assert sum(status == 201 for status, _ in by_destination) == policy.destination_sms_per_hour
    for status, body in by_ip + by_destination:
        assert status in (201, 429), body
    accepted = list(SmsMessage.objects.values_list("pk", flat=True))
    assert len(accepted) == policy.ip_sms_per_hour + policy.destination_sms_per_hour
    wait_until(lambda: all_sent(accepted), what="every accepted SMS")
    assert len(fake_twilio.to(target)) == policy.destination_sms_per_hour
    assert_each_message_handed_over_once(fake_twilio)


def test_many_users_enrol_at_once_and_each_code_arrives_once_and_works(
    scale: Stack, fake_twilio: FakeTwilio
) -> None:
    users = [UserFactory() for _ in range(20)]
    tokens = [token_for(user) for user in users]

    started = run_concurrently(
        20,
        lambda i: scale.request(
            "POST", ENROL, {"phone_number": number(200 + i)}, token=tokens[i], ip=ip(i)
        ),
    )
    assert [status for status, _ in started] == [201] * 20
    wait_until(lambda: len(fake_twilio.received) >= 20, what="20 SMS at the provider")

    def complete(i: int) -> int:
        [sms] = fake_twilio.to(number(200 + i))
        status, body = scale.request(
            "POST",
            f"{ENROL}{started[i][1]['id']}/complete/",
            {"code": code_in(sms.body)},
            token=tokens[i],
            ip=ip(i),
        )
        assert status == 201, body
        return status

    assert run_concurrently(20, complete) == [201] * 20
    assert SmsFactor.objects.count() == 20
    assert_each_message_handed_over_once(fake_twilio)


def test_a_worker_killed_mid_send_sends_nothing_twice(
    scale: Stack, fake_twilio: FakeTwilio
) -> None:
    user = UserFactory()
    target = number(300)
    fake_twilio.hold(target)
    marks = scale.log_marks()  # the logs hold earlier tests' redeliveries too

    start_enrolment(scale, user, target, ip(1))
    assert fake_twilio.arrived.wait(30), "the SMS never reached the provider"

    # The provider holds the request: a pool process is mid-send. Kill every pool process.
    for worker in ("worker1", "worker2"):
        for child in scale.pool_children(worker):
            os.kill(child, signal.SIGKILL)
    # The task is given back to the broker (acks_late, reject_on_worker_lost) and run again.
    wait_until(
        lambda: redelivered_and_done(scale.logs_text("worker", since=marks)),
        what="the redelivery",
    )
    fake_twilio.release.set()
    message = SmsMessage.objects.get(user=user)

    assert len(fake_twilio.to(target)) == 1, "the message was handed to the provider twice"
    # Its outcome is unknown to the app (the worker died before the answer): it stays
    # ``sending`` and is never sent again, not by the redelivered task nor by the sweep.
    assert message.status == MessageStatus.SENDING and message.attempts == 1
    scale.check_alive()  # the workers replaced their pool processes

    # And the workers still work.
    fake_twilio.held_numbers.clear()
    other = UserFactory()
    start_enrolment(scale, other, number(301), ip(2))
    wait_until(lambda: fake_twilio.to(number(301)), what="an SMS after the kill")
    assert len(fake_twilio.to(target)) == 1


def test_a_whole_worker_killed_mid_send_sends_nothing_twice(
    scale_kills: Stack, fake_twilio: FakeTwilio
) -> None:
    scale = scale_kills
    user = UserFactory()
    target = number(500)
    fake_twilio.hold(target)
    started = time.monotonic()

    start_enrolment(scale, user, target, ip(50))
    assert fake_twilio.arrived.wait(30), "the SMS never reached the provider"
    message, first = message_and_first_claim(fake_twilio, user)
    # The provider holds the request: the worker is mid-send. Kill all of it at once, so
    # nothing is left to give the task back to the broker (no reject_on_worker_lost); the
    # broker puts it back once the other worker's scan finds it unacknowledged for longer
    # than the visibility timeout, and the other worker runs it again.
    back = kill_whole_worker_and_wait_for_its_task(scale, fake_twilio, first, fake_twilio.release)
    message.refresh_from_db()

    assert back.result == "None", "the task given back did not find its message claimed"
    assert back.again.at - started > visibility_timeout(), "given back before the timeout"
    assert len(fake_twilio.to(target)) == 1, "the message was handed to the provider twice"
    # At most once: the app never learns whether the provider took it, so it stays
    # ``sending`` and nothing sends it again (the second run found it claimed).
    assert message.status == MessageStatus.SENDING and message.attempts == 1
    assert len(fake_twilio.claims_of(message.pk)) == 2

    scale.start(back.holder)
    scale.check_alive()


def test_a_whole_worker_killed_before_its_claim_sends_once_when_the_task_comes_back(
    scale_kills: Stack, fake_twilio: FakeTwilio
) -> None:
    scale = scale_kills
    user = UserFactory()
    target = number(501)
    # Beat stays stopped meanwhile, so the sweep (3 s after the message was due, here)
    # does not re-issue the message: what sends it is the task the broker gives back.
    with scale.paused("beat"):
        fake_twilio.hold_before_claim()
        started = time.monotonic()
        enrolment = start_enrolment(scale, user, target, ip(51))
        assert fake_twilio.claim_arrived.wait(30), "no worker started the delivery task"
        message, first = message_and_first_claim(fake_twilio, user)
        assert message.status == MessageStatus.QUEUED  # received, not claimed

        back = kill_whole_worker_and_wait_for_its_task(
            scale, fake_twilio, first, fake_twilio.claim_release
        )
    message.refresh_from_db()

    assert back.result == "'sent'", "the task given back did not send the SMS"
    assert back.again.at - started > visibility_timeout(), "given back before the timeout"
    [sms] = fake_twilio.to(target)
    assert message.status == MessageStatus.SENT and message.attempts == 1
    assert message.provider_message_id == sms.sid
    assert not AuditEvent.objects.filter(event_type=EventType.SMS_REQUEUED).exists()
    # The code it carries is the message's: the enrolment completes with it.
    status, body = scale.request(
        "POST",
        f"{ENROL}{enrolment['id']}/complete/",
        {"code": code_in(sms.body)},
        token=token_for(user),
        ip=ip(51),
    )
    assert status == 201, body

    scale.start(back.holder)
    scale.check_alive()


def test_a_broker_stopped_and_restarted_loses_nothing(
    scale: Stack, fake_twilio: FakeTwilio, broker: Any
) -> None:
    users = [UserFactory() for _ in range(4)]
    broker.stop()
    try:
        answers = [
            scale.request(
                "POST",
                ENROL,
                {"phone_number": number(400 + i)},
                token=token_for(users[i]),
                ip=ip(40 + i),
            )
            for i in range(4)
        ]
    finally:
        broker.start()

    # The requests answered the contract's JSON while the broker was down…
    assert [status for status, _ in answers] == [201] * 4
    unavailable = AuditEvent.objects.filter(event_type=EventType.SMS_QUEUE_UNAVAILABLE)
    assert unavailable.count() == 4
    # …and once it is back, the sweep (beat) queues them again: each sent once.
    messages = list(SmsMessage.objects.values_list("pk", flat=True))
    wait_until(lambda: all_sent(messages), what="the SMS queued while the broker was down")
    for i in range(4):
        [sms] = fake_twilio.to(number(400 + i))
        status, body = scale.request(
            "POST",
            f"{ENROL}{answers[i][1]['id']}/complete/",
            {"code": code_in(sms.body)},
            token=token_for(users[i]),
            ip=ip(40 + i),
        )
        assert status == 201, body
    assert AuditEvent.objects.filter(event_type=EventType.SMS_REQUEUED).count() == 4
    assert_each_message_handed_over_once(fake_twilio)
