"""An empty phone number is stored empty: a cleared destination is not a token of ``""``
that ``exclude(phone_number="")`` (the sweep, the clean-up, re-keying) and the partial index
of unsent messages would take for a number; migration 0013 mends rows written before."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from encrypted_model_fields.fields import decrypt_str, encrypt_str

from intelliauth_sms.models import SmsFactor
from tests.factories import SmsFactorFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "intelliauth_sms.migrations.0013_empty_phone_numbers_stored_empty"
)


def stored(factor: SmsFactor) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT phone_number FROM {SmsFactor._meta.db_table} WHERE id = %s",  # noqa: S608
            [SmsFactor._meta.pk.get_db_prep_value(factor.pk, connection)],
        )
        return str(cursor.fetchone()[0])


def write_raw(factor: SmsFactor, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SmsFactor._meta.db_table} SET phone_number = %s WHERE id = %s",  # noqa: S608
            [value, SmsFactor._meta.pk.get_db_prep_value(factor.pk, connection)],
        )


def test_clearing_a_number_stores_an_empty_column() -> None:
    factor = SmsFactorFactory(phone_number="+14155550100")
    assert decrypt_str(stored(factor)) == "+14155550100"

    SmsFactor.objects.filter(pk=factor.pk).update(phone_number="")

    assert stored(factor) == ""
    factor.refresh_from_db()
    assert factor.phone_number == ""
    assert not SmsFactor.objects.filter(pk=factor.pk).exclude(phone_number="").exists()


def test_the_migration_empties_tokens_of_the_empty_string_and_keeps_numbers() -> None:
    cleared, kept = SmsFactorFactory(), SmsFactorFactory(phone_number="+14155550111")
    write_raw(cleared, encrypt_str("").decode())  # as the library wrote a cleared number
    kept_ciphertext = stored(kept)

    migration.clear_empty_tokens(apps, SimpleNamespace(connection=connection))

    assert stored(cleared) == ""
    assert stored(kept) == kept_ciphertext
    assert decrypt_str(stored(kept)) == "+14155550111"
