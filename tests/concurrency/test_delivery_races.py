"""The delivery claim under concurrency, on PostgreSQL: copies of one task racing each other,
and a task racing the sweep that re-issues its code."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from intelliauth_sms.backends import locmem
from intelliauth_sms.crypto import code_hash, decrypt_secret
from intelliauth_sms.models import MessageStatus, SmsCode, SmsMessage
from intelliauth_sms.services import dispatch, enrolment, requeue
from intelliauth_sms.services.delivery import deliver
from tests.concurrency.conftest import run_concurrently
from tests.conftest import CODE_IN_SMS

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

COPIES = 10


def queued(user: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[SmsMessage, str]:
    """An enrolment code whose delivery task was published but not run."""
    held: list[tuple[str, str]] = []
    monkeypatch.setattr(dispatch, "deliver_sms", lambda *args: held.append(args) or True)
    _pending, issued = enrolment.start_enrolment(user, "+14155550100")
    monkeypatch.undo()
    [(message_id, sealed, _language)] = held
    return SmsMessage.objects.get(pk=message_id), sealed


def test_copies_of_one_task_racing_send_one_sms(user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    message, sealed = queued(user, monkeypatch)
    locmem.outbox.clear()

    outcomes = run_concurrently(COPIES, lambda _i: deliver(str(message.pk), sealed).status)

    assert Counter(outcomes) == {MessageStatus.SENT: 1, None: COPIES - 1}
    assert len(locmem.outbox) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 1


def test_a_task_racing_the_sweep_sends_a_code_that_works_and_only_once(
    user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    swept: list[tuple[str, ...]] = []

    def hold(*args: str) -> bool:
        swept.append(args)
        return True

    for _round in range(5):
        SmsMessage.objects.all().delete()
        message, sealed = queued(user, monkeypatch)
        SmsMessage.objects.filter(pk=message.pk).update(
            due_at=message.due_at.replace(year=message.due_at.year - 1)
        )
        locmem.outbox.clear()
        swept.clear()
        monkeypatch.setattr(dispatch, "deliver_sms", hold)

        def act(index: int, message_id: str = str(message.pk), payload: str = sealed) -> Any:
            return requeue.sweep_queued() if index == 0 else deliver(message_id, payload).status

        run_concurrently(2, act)
        monkeypatch.undo()
        for args in swept:  # the sweep's task, once the broker has it
            deliver(*args[:2])

        assert len(locmem.outbox) == 1, "one SMS, from the old task or the sweep's"
        [code] = CODE_IN_SMS.findall(locmem.outbox[0].body)
        stored = SmsCode.objects.get(pk=message.code_id)
        assert stored.code_hash == code_hash(str(stored.pk), code), "the SMS holds a dead code"
        assert decrypt_secret(sealed) == code or swept, "a new code only comes from the sweep"
