"""The columns every row that holds a phone number shares: encrypted number, keyed hash, last 4."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.crypto import phone_hash
from intelliauth_sms.fields import EncryptedPhoneNumberField
from intelliauth_sms.phone import PhoneNumber, mask_last4


class EncryptedPhone(models.Model):
    """Abstract base: no column holds the plaintext number."""

    # Typed as what the attribute holds (the decrypted number), not as the field class:
    # the library field it extends is untyped.
    phone_number: Any = EncryptedPhoneNumberField(_("phone number"), max_length=16)
    phone_hash = models.CharField(_("phone hash"), max_length=64, editable=False)
    phone_last4 = models.CharField(_("last 4 digits"), max_length=4, editable=False)
    country = models.CharField(_("country"), max_length=2, editable=False)

    class Meta:
        abstract = True

    def set_phone(self, phone: PhoneNumber) -> None:
        """Fill every phone column from a validated number."""
        self.phone_number = phone.e164
        self.phone_hash = phone_hash(phone.e164)
        self.phone_last4 = phone.last4
        self.country = phone.country

    @property
    def phone_number_masked(self) -> str:
        return mask_last4(self.phone_last4)

    @property
    def phone(self) -> PhoneNumber:
        return PhoneNumber(e164=str(self.phone_number), country=self.country)
