"""Where the test site keeps its users' numbers: encrypted, hashed, never in plaintext."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from intelliauth_sms.models.phone_fields import EncryptedPhone


class SitePhone(EncryptedPhone):
    """A user's allauth phone number (the site's own storage, not the app's)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_phone"
    )
    verified = models.BooleanField(default=False)

    class Meta:
        app_label = "allauth_site"

    def __str__(self) -> str:
        return f"{self.phone_number_masked} ({'verified' if self.verified else 'unverified'})"
