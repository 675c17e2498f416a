"""An empty phone number is stored empty: a cleared destination is not a token of ``""``
that ``exclude(phone_number="")`` (the sweep, the clean-up, re-keying) and the partial index
of unsent messages would take for a number; migration 0013 mends rows written before."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models import Model
from django.utils import timezone
from encrypted_model_fields.fields import decrypt_str, encrypt_str

from intelliauth_sms.models import MessageStatus, PendingEnrolment, SmsFactor, SmsMessage
from intelliauth_sms.phone import parse_e164
from intelliauth_sms.services.context import Caller
from tests.core.conftest import US, US_2, SmsDriver
from tests.factories import SmsFactorFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "intelliauth_sms.migrations.0013_empty_phone_numbers_stored_empty"
)
#: A token no configured key opens (written before a key rotation).
UNREADABLE = "gAAAAABnot-a-token-any-current-key-opens=="


def stored(row: Model) -> str:
    model: Any = type(row)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT phone_number FROM {model._meta.db_table} WHERE id = %s",  # noqa: S608
            [model._meta.pk.get_db_prep_value(row.pk, connection)],
        )
        return str(cursor.fetchone()[0])


def write_raw(row: Model, value: str) -> None:
    model: Any = type(row)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} SET phone_number = %s WHERE id = %s",  # noqa: S608
            [value, model._meta.pk.get_db_prep_value(row.pk, connection)],
        )


def test_clearing_a_number_stores_an_empty_column() -> None:
    factor = SmsFactorFactory(phone_number="+14155550100")
    assert decrypt_str(stored(factor)) == "+14155550100"

    SmsFactor.objects.filter(pk=factor.pk).update(phone_number="")

    assert stored(factor) == ""
    factor.refresh_from_db()
    assert factor.phone_number == ""
    assert not SmsFactor.objects.filter(pk=factor.pk).exclude(phone_number="").exists()


def _enrolment(caller: Caller, number: str, *, completed: bool) -> PendingEnrolment:
    enrolment = PendingEnrolment(user=caller.user, tenant=caller.tenant)
    enrolment.set_phone(parse_e164(number))
    enrolment.completed_at = timezone.now() if completed else None
    enrolment.save()
    return enrolment


def test_the_migration_empties_what_was_cleared_and_keeps_what_is_not_yet_used(
    sms: SmsDriver, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = [sms.send(caller, phone=number).message for number in (US, US_2)]
    write_raw(sent[0], encrypt_str("").decode())  # as the library wrote a cleared number
    write_raw(sent[1], UNREADABLE)  # a token of "" from before a key rotation
    queued = sms.send(caller, phone=US, deliver=False).message
    done = _enrolment(caller, US, completed=True)
    write_raw(done, encrypt_str("").decode())
    pending = _enrolment(caller, US_2, completed=False)
    kept = {row.pk: stored(row) for row in (queued, pending)}
    monkeypatch.setattr(migration, "BATCH", 1)  # several batches per model
    historical = (
        MigrationLoader(connection)
        .project_state(("intelliauth_sms", "0012_allauth_code_purpose"))
        .apps
    )

    migration.clear_empty_tokens(historical, SimpleNamespace(connection=connection))

    assert [stored(row) for row in (*sent, done)] == ["", "", ""]
    assert {row.pk: stored(row) for row in (queued, pending)} == kept
    assert decrypt_str(kept[queued.pk]) == US and queued.status == MessageStatus.QUEUED
    assert SmsMessage.objects.exclude(phone_number="").get() == queued
