"""``manage.py intelliauth_sms_rekey``: after a key rotation every stored number is encrypted
with the new key and hashed with the new HASH_KEY; what no key opens is left alone."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.management import CommandError, call_command
from django.db import connection
from encrypted_model_fields import fields as encrypted_fields

from intelliauth_sms.crypto import phone_hash
from intelliauth_sms.models import SmsFactor
from tests.factories import SmsFactorFactory

pytestmark = pytest.mark.django_db

NUMBER = "+14155550100"


def stored_ciphertext(factor: SmsFactor) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT phone_number FROM {SmsFactor._meta.db_table} WHERE id = %s",  # noqa: S608
            [SmsFactor._meta.pk.get_db_prep_value(factor.pk, connection)],
        )
        return str(cursor.fetchone()[0])


def test_rotating_both_keys_then_rekeying_keeps_every_number_usable(
    settings: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    factor = SmsFactorFactory(phone_number=NUMBER)
    old_key = settings.FIELD_ENCRYPTION_KEY
    new_key = Fernet.generate_key().decode()
    # The site restarts with the new key first and the old one still listed.
    settings.FIELD_ENCRYPTION_KEY = [new_key, old_key]
    monkeypatch.setattr(
        encrypted_fields, "CRYPTER", MultiFernet([Fernet(new_key), Fernet(old_key)])
    )
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "HASH_KEY": "a-new-hash-key"}

    call_command("intelliauth_sms_rekey")

    assert "factors: 1" in capsys.readouterr().out
    ciphertext = stored_ciphertext(factor)
    assert Fernet(new_key).decrypt(ciphertext.encode()).decode() == NUMBER
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(ciphertext.encode())
    factor.refresh_from_db()
    assert factor.phone_hash == phone_hash(NUMBER)  # under the new HASH_KEY
    assert SmsFactor.objects.filter(phone_hash=phone_hash(NUMBER)).count() == 1


def test_numbers_no_key_opens_are_left_unchanged_and_reported(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    factor = SmsFactorFactory(phone_number=NUMBER)
    before = stored_ciphertext(factor)
    hash_before = SmsFactor.objects.get(pk=factor.pk).phone_hash
    # The old key was removed before rekeying: nothing can read the stored numbers.
    monkeypatch.setattr(encrypted_fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))

    with pytest.raises(CommandError, match="1 stored numbers could not be decrypted"):
        call_command("intelliauth_sms_rekey")

    assert stored_ciphertext(factor) == before
    assert SmsFactor.objects.get(pk=factor.pk).phone_hash == hash_before
