"""``services.sql``: a plain ``UPDATE`` whose values are prepared as ``save()`` prepares them
(times with their zone, choices, foreign keys by attname, an empty phone number stored
empty), changing only the rows its lookups match; and a plain ``INSERT`` that stores what
``save()`` stores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intelliauth_sms.models import AuditEvent, AuthFlow, EventType, PendingEnrolment, Tenant
from intelliauth_sms.phone import parse_e164
from intelliauth_sms.services import sql
from intelliauth_sms.services.flows import start_flow
from tests.factories import SmsFactorFactory

pytestmark = pytest.mark.django_db


def test_an_update_writes_what_the_orm_reads_back_and_only_where_asked(user: Any) -> None:
    factor = SmsFactorFactory(user=user)
    flow, other = start_flow(user), start_flow(user)
    when = timezone.now() - timedelta(minutes=3)

    changed = sql.update(AuthFlow, {"id": flow.pk}, {"verified_at": when, "factor_id": factor.pk})

    assert changed == 1
    flow.refresh_from_db()
    other.refresh_from_db()
    assert flow.verified_at == when and flow.factor == factor
    assert other.verified_at is None and other.factor_id is None


def test_an_emptied_number_is_stored_empty_and_a_miss_changes_nothing(user: Any) -> None:
    enrolment = PendingEnrolment(user=user, tenant=Tenant.objects.get(slug="default"))
    enrolment.set_phone(parse_e164("+14155550100"))
    enrolment.save()

    assert sql.update(PendingEnrolment, {"id": enrolment.pk}, {"phone_number": ""}) == 1
    assert not PendingEnrolment.objects.exclude(phone_number="").exists()
    assert (
        sql.update(
            PendingEnrolment,
            {"id": enrolment.pk, "user_id": user.pk + 1},
            {"completed_at": timezone.now()},
        )
        == 0
    )
    enrolment.refresh_from_db()
    assert enrolment.completed_at is None


def test_an_exact_none_is_refused_and_update_one_needs_its_row(user: Any) -> None:
    from django.db import DatabaseError

    with pytest.raises(ValueError, match="isnull"):
        sql.condition(AuthFlow, {"factor_id": None})
    flow = start_flow(user)
    with pytest.raises(DatabaseError):
        sql.update_one(AuthFlow, {"id": flow.pk, "user_id": user.pk + 1}, {"verified_at": None})
    sql.update_one(AuthFlow, {"id": flow.pk}, {"verified_at": None})  # one row: fine


def _stored(model: Any, pk: Any) -> dict[str, Any]:
    """A row's columns as stored, but its key."""
    row = dict(model.objects.filter(pk=pk).values().get())
    del row["id"]
    return row


def test_an_insert_stores_what_save_stores(user: Any) -> None:
    tenant = Tenant.objects.get(slug="default")
    when = timezone.now() - timedelta(minutes=1)
    saved, inserted = (
        PendingEnrolment(user=user, tenant=tenant, purpose="recovery", created_at=when)
        for _ in range(2)
    )
    for enrolment in (saved, inserted):
        enrolment.set_phone(parse_e164("+14155550100"))
    saved.save()

    sql.insert([inserted])

    assert not inserted._state.adding and inserted._state.db == "default"
    stored, expected = _stored(PendingEnrolment, inserted.pk), _stored(PendingEnrolment, saved.pk)
    # The number is encrypted with a fresh nonce each time: compared decrypted.
    assert PendingEnrolment.objects.get(pk=inserted.pk).phone.e164 == "+14155550100"
    # ``auto_now_add`` replaced the given time at the insert, as it did at the save.
    assert stored["created_at"] > when and expected["created_at"] > when
    assert inserted.created_at == stored["created_at"]
    for row in (stored, expected):
        del row["phone_number"], row["created_at"]
    assert stored == expected
    assert stored["purpose"] == "recovery" and stored["user_id"] == user.pk


def test_an_insert_fills_auto_now_add_and_the_auto_key_and_then_saves_as_an_update() -> None:
    tenant = Tenant(name="Acme", slug="acme")

    sql.insert([tenant])

    assert tenant.pk is not None and tenant.created_at is not None
    assert Tenant.objects.get(pk=tenant.pk).created_at == tenant.created_at
    tenant.name = "Acme Ltd"
    tenant.save()  # an update of the inserted row, not a second row
    assert list(Tenant.objects.filter(slug="acme").values_list("name", flat=True)) == ["Acme Ltd"]


def test_several_rows_are_one_statement_and_each_gets_its_key(user: Any) -> None:
    tenant = Tenant.objects.get(slug="default")
    events = [
        AuditEvent(
            created_at=timezone.now(),
            event_type=EventType.CODE_CHECKED,
            user=user,
            tenant=tenant,
            detail={"n": n},
        )
        for n in range(3)
    ]
    with CaptureQueriesContext(connection) as captured:
        sql.insert(events)

    assert len(captured.captured_queries) == 1
    stored = dict(AuditEvent.objects.values_list("pk", "detail"))
    assert {event.pk: event.detail for event in events} == stored
    assert len(stored) == 3


def test_an_insert_takes_one_model_and_nothing_is_no_statement(user: Any) -> None:
    with pytest.raises(TypeError, match="one model"):
        sql.insert([Tenant(name="A", slug="a"), AuditEvent(event_type=EventType.CODE_CHECKED)])
    with CaptureQueriesContext(connection) as captured:
        sql.insert([])
    assert captured.captured_queries == []


def _event(user: Any, n: int = 0, **fields: Any) -> AuditEvent:
    return AuditEvent(
        created_at=timezone.now(),
        event_type=EventType.CODE_CHECKED,
        user=user,
        tenant=Tenant.objects.get(slug="default"),
        detail={"n": n},
        **fields,
    )


def test_what_save_would_refuse_is_refused_before_any_statement(user: Any) -> None:
    mixed_keys = [_event(user, 0, id=987654), _event(user, 1)]
    unsaved_tenant = PendingEnrolment(user=user, tenant=Tenant(name="Unsaved", slug="unsaved"))
    expression = _event(user, 0, phone_last4=F("event_type"))
    with CaptureQueriesContext(connection) as captured:
        with pytest.raises(ValueError, match="all have a key or all leave it empty"):
            sql.insert(mixed_keys)
        with pytest.raises(ValueError, match="unsaved related object"):
            sql.insert([unsaved_tenant])
        with pytest.raises(TypeError, match="not expressions"):
            sql.insert([expression])
    assert captured.captured_queries == []
    assert not AuditEvent.objects.exists()


def test_a_failed_insert_marks_the_transaction_for_rollback_as_save_does(user: Any) -> None:
    first = PendingEnrolment(user=user, tenant=Tenant.objects.get(slug="default"))
    sql.insert([first])
    again = PendingEnrolment(id=first.id, user=user, tenant=first.tenant)
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            sql.insert([again])
        # Marked: leaving the block rolls it back instead of committing a broken transaction.
        assert connection.needs_rollback
    assert PendingEnrolment.objects.count() == 1


def test_rows_beyond_a_statement_s_parameters_go_in_batches(
    user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(type(connection.ops), "bulk_batch_size", lambda self, fields, objs: 2)
    events = [_event(user, n) for n in range(5)]
    with CaptureQueriesContext(connection) as captured:
        sql.insert(events)

    assert len(captured.captured_queries) == 3
    assert dict(AuditEvent.objects.values_list("pk", "detail")) == {
        event.pk: event.detail for event in events
    }


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the MySQL path, simulated on SQLite: PostgreSQL always returns keys",
)
def test_without_returning_one_row_gets_its_key_and_several_keep_none(
    user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The MySQL path: no ``RETURNING`` from an insert of several rows."""
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    alone = _event(user, 0)
    sql.insert([alone])
    together = [_event(user, 1), _event(user, 2)]
    sql.insert(together)

    assert alone.pk == AuditEvent.objects.get(detail={"n": 0}).pk
    assert [event.pk for event in together] == [None, None]
    assert not any(event._state.adding for event in [alone, *together])
    assert AuditEvent.objects.count() == 3
