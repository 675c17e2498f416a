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


__all__ = ["EncryptedCharField"]
