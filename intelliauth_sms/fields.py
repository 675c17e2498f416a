"""The encrypted phone-number column, from django-encrypted-model-fields.

django-encrypted-model-fields builds its cipher when it is imported and raises
``ImproperlyConfigured`` if ``FIELD_ENCRYPTION_KEY`` is missing or invalid. Importing it
unguarded would crash the site with a traceback before Django's system checks could explain
the problem, so a broken key gives a stand-in field that refuses every read and write, and
the ``intelliauth_sms.E001`` check reports the key.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models

try:
    from encrypted_model_fields.fields import EncryptedCharField
except ImproperlyConfigured:  # pragma: no cover - exercised only with a broken key

    class EncryptedCharField(models.CharField):  # type: ignore[no-redef]
        """Stand-in used while the key is broken: never stores or reads plaintext."""

        def get_db_prep_save(self, value: Any, connection: Any) -> Any:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is missing or invalid.")

        def from_db_value(self, value: Any, *args: Any) -> Any:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is missing or invalid.")

        def deconstruct(self) -> Any:
            name, _path, args, kwargs = super().deconstruct()
            kwargs.pop("max_length", None)
            return name, "encrypted_model_fields.fields.EncryptedCharField", args, kwargs


LIBRARY_FIELD_PATH = "encrypted_model_fields.fields.EncryptedCharField"


class EncryptedPhoneNumberField(EncryptedCharField):
    """The encrypted phone column; serialised (``dumpdata``) as its ciphertext.

    django-encrypted-model-fields writes the decrypted value into dumps. Here a dump holds
    a fresh Fernet token of the number instead, which the library's ``to_python`` decrypts
    again on ``loaddata``, so the restored factor works and no dump holds a plaintext
    number (CONTRACT §5). Migrations see the library's field (same ``deconstruct``): the
    column and its history are unchanged.
    """

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        """An empty number is stored empty, not as a token of ``""``.

        The library encrypts every value, the empty string too; a cleared destination then
        looked like a stored number to ``exclude(phone_number="")`` (the sweep, the daily
        clean-up, re-keying) and to the partial index of unsent messages. Nothing secret is
        in an empty value.
        """
        if value in (None, ""):
            return value
        return super().get_db_prep_save(value, connection)

    def value_to_string(self, obj: Any) -> str:
        value = self.value_from_object(obj)
        if value in (None, ""):
            return ""
        from encrypted_model_fields.fields import encrypt_str

        return str(encrypt_str(str(value)).decode("ascii"))

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, LIBRARY_FIELD_PATH, args, kwargs


__all__ = ["EncryptedCharField", "EncryptedPhoneNumberField"]
