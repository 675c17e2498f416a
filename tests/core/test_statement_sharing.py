"""Statements the send and check paths share: audit events written together in one INSERT
(``audit.written_together``), and several lock rows created and locked in one statement
(``locks.lock_keys``), with the two-step fallback for databases without ``RETURNING``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import signals
from django.test.utils import CaptureQueriesContext

from intelliauth_sms.models import AuditEvent, EventType, Outcome, SendLock, Tenant
from intelliauth_sms.services import audit, locks
from intelliauth_sms.services.context import Caller
from tests.core.conftest import IP, US, SmsDriver
from tests.query_budget import split

pytestmark = pytest.mark.django_db


def inserts_into(table: str, sql: list[str]) -> list[str]:
    return [text for text in sql if text.startswith(f'INSERT INTO "{table}"')]


def test_events_recorded_together_are_one_insert_at_the_end_of_the_block(
    caller: Caller,
) -> None:
    with (
        CaptureQueriesContext(connection) as captured,
        transaction.atomic(),
        audit.written_together(),
    ):
        audit.record(EventType.CODE_CHECKED, caller)
        assert not AuditEvent.objects.exists(), "written before the block ended"
        audit.record(EventType.MFA_VERIFIED, caller, outcome=Outcome.SUCCESS)

    sql = [query["sql"] for query in captured.captured_queries]
    assert len(inserts_into(AuditEvent._meta.db_table, sql)) == 1
    assert list(AuditEvent.objects.order_by("pk").values_list("event_type", "user")) == [
        (EventType.CODE_CHECKED, caller.user.pk),
        (EventType.MFA_VERIFIED, caller.user.pk),
    ]


def test_a_block_that_raises_writes_none_of_its_events(caller: Caller) -> None:
    with pytest.raises(RuntimeError), audit.written_together():
        audit.record(EventType.CODE_CHECKED, caller)
        raise RuntimeError("the step failed")

    assert not AuditEvent.objects.exists()
    audit.record(EventType.CODE_CHECKED, caller)  # and recording works as before after it
    assert AuditEvent.objects.count() == 1


def test_a_nested_block_joins_the_outer_one(caller: Caller) -> None:
    with audit.written_together():
        with audit.written_together():
            audit.record(EventType.CODE_CHECKED, caller)
        assert not AuditEvent.objects.exists(), "the inner block wrote on its own"
        audit.record(EventType.MFA_VERIFIED, caller)

    assert AuditEvent.objects.count() == 2


def test_a_nested_block_that_raises_drops_only_its_own_events(caller: Caller) -> None:
    with audit.written_together():
        audit.record(EventType.CODE_CHECKED, caller)
        try:
            with transaction.atomic(), audit.written_together():
                audit.record(EventType.MFA_VERIFIED, caller)
                raise RuntimeError("the inner step is rolled back")
        except RuntimeError:
            pass

    assert list(AuditEvent.objects.values_list("event_type", flat=True)) == [EventType.CODE_CHECKED]


Seen = list[tuple[str, Any, bool | None]]


@pytest.fixture
def audit_signals() -> Iterator[Seen]:
    """The ``pre_save`` and ``post_save`` signals of audit events, in order: (which, pk,
    created)."""
    seen: Seen = []

    def pre(instance: AuditEvent, **kwargs: Any) -> None:
        seen.append(("pre", instance.pk, None))

    def post(instance: AuditEvent, created: bool, **kwargs: Any) -> None:
        seen.append(("post", instance.pk, created))

    signals.pre_save.connect(pre, sender=AuditEvent)
    signals.post_save.connect(post, sender=AuditEvent)
    yield seen
    signals.pre_save.disconnect(pre, sender=AuditEvent)
    signals.post_save.disconnect(post, sender=AuditEvent)


def test_events_written_together_send_pre_and_post_save_as_save_would(
    caller: Caller, audit_signals: Seen
) -> None:
    with audit.written_together():
        audit.record(EventType.CODE_CHECKED, caller)
        audit.record(EventType.MFA_VERIFIED, caller)
        assert audit_signals == [], "signalled before the events were written"

    ids = list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))
    assert audit_signals == [
        ("pre", None, None),
        ("pre", None, None),
        ("post", ids[0], True),
        ("post", ids[1], True),
    ]


def test_an_event_recorded_alone_sends_pre_and_post_save_as_save_would(
    caller: Caller, audit_signals: Seen
) -> None:
    event = audit.record(EventType.CODE_CHECKED, caller)

    assert event.pk == AuditEvent.objects.get().pk
    assert audit_signals == [("pre", None, None), ("post", event.pk, True)]


@pytest.mark.parametrize("one_statement", [True, False], ids=["upsert", "two-steps"])
def test_lock_rows_are_created_once_in_the_order_given(
    one_statement: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locks, "returning_supported", lambda: one_statement)
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        locks.lock_keys("ip:a", "dest:b", "ip:a")
        locks.lock_keys("ip:a", "dest:b")  # existing rows: locked again, not duplicated

    assert sorted(SendLock.objects.values_list("key", flat=True)) == ["dest:b", "ip:a"]
    work = split([query["sql"] for query in captured.captured_queries]).work
    if one_statement:
        assert len(work) == 2  # one statement per call, both rows in it
        assert work[0].index("'ip:a'") < work[0].index("'dest:b'")  # the lock order
    else:
        assert len(work) == 8  # insert-if-missing, then SELECT … FOR UPDATE, per row


def test_a_send_passes_the_gate_on_a_database_without_returning(
    sms: SmsDriver, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locks, "returning_supported", lambda: False)
    caller = Caller(user=user, tenant=Tenant.objects.get(slug="default"), ip=IP)

    sent = sms.send(caller, phone=US)

    assert sent.code is not None and sent.message.status == "sent"
    assert SendLock.objects.filter(key__startswith="ip:").count() == 1
    assert SendLock.objects.filter(key__startswith="dest:").count() == 1
