"""One-time codes: only a keyed hash is kept, never the code."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.models.tenant import Tenant


class CodePurpose(models.TextChoices):
    """What a code is for; each code belongs to one enrolment, flow or recovery (its subject)."""

    ENROLMENT = "enrolment", _("Enrolment")
    AUTHENTICATION = "authentication", _("Sign-in")
    RECOVERY = "recovery", _("Recovery")
    # A django-allauth phone code (``intelliauth_sms.contrib.allauth``): allauth makes and
    # checks it; this app gates, records and delivers it.
    ALLAUTH = "allauth", _("django-allauth code")


class CodeState(models.TextChoices):
    ACTIVE = "active", _("Active")
    USED = "used", _("Used")
    REPLACED = "replaced", _("Replaced by a newer code")
    BURNED = "burned", _("Burned by a lockout")
    # Its SMS could not be delivered (a permanent failure, or retries ran out): typing it
    # answers ``code_expired``, the contract's copy that sends the user to request another.
    UNSENT = "unsent", _("Never delivered")


class SmsCode(models.Model):
    """A code issued for one subject (enrolment, flow or recovery)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: ``iasms_code_user_state`` leads with it (every send inserts here).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_codes", db_index=False
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sms_codes")
    purpose = models.CharField(_("purpose"), max_length=16, choices=CodePurpose.choices)
    subject_id = models.UUIDField(_("subject id"))
    code_hash = models.CharField(_("code hash"), max_length=64)
    state = models.CharField(
        _("state"), max_length=8, choices=CodeState.choices, default=CodeState.ACTIVE
    )
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")
        indexes = [
            # The latest code of a subject, and the codes a check compares against.
            models.Index(fields=["subject_id", "-created_at"], name="iasms_code_subject"),
            # Burning every active code of a user at lockout.
            models.Index(fields=["user", "state"], name="iasms_code_user_state"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code {self.id} ({self.state})"
