"""Enrolled SMS factors and enrolments waiting for their code."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.models.phone_fields import EncryptedPhone
from intelliauth_sms.models.tenant import Tenant


class FactorPurpose(models.TextChoices):
    MFA = "mfa", _("Sign-in (MFA)")
    BACKUP = "backup", _("Backup (recovery)")


class SmsFactor(EncryptedPhone):
    """A phone the user proved they receive SMS on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_factors"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sms_factors")
    purpose = models.CharField(
        _("purpose"), max_length=8, choices=FactorPurpose.choices, default=FactorPurpose.MFA
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS factor")
        verbose_name_plural = _("SMS factors")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "phone_hash"], name="iasms_factor_unique_phone")
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="iasms_factor_tenant")]

    def __str__(self) -> str:
        return f"{self.phone_number_masked} ({self.purpose})"


class PendingEnrolment(EncryptedPhone):
    """A phone being added: it becomes an ``SmsFactor`` when its latest code is typed back."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_enrolments"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sms_enrolments")
    purpose = models.CharField(
        _("purpose"), max_length=8, choices=FactorPurpose.choices, default=FactorPurpose.MFA
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    factor = models.OneToOneField(
        SmsFactor, on_delete=models.SET_NULL, null=True, blank=True, related_name="enrolment"
    )

    class Meta:
        verbose_name = _("pending enrolment")
        verbose_name_plural = _("pending enrolments")
        indexes = [models.Index(fields=["user", "created_at"], name="iasms_enrolment_user")]

    def __str__(self) -> str:
        return f"Enrolment of {self.phone_number_masked}"
