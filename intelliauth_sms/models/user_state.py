"""Per-user failed-code state: the row every send and check for a user locks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsUserState(models.Model):
    """Failed-code counters and lockout of one user, across all of their codes.

    ``failed_attempts`` counts wrong codes since the last lockout or correct code;
    ``consecutive_failures`` counts wrong codes since the last correct code or support
    unlock, across lockouts, for the hard cap. Issuing a code resets neither.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="sms_state",
    )
    failed_attempts = models.PositiveIntegerField(_("wrong codes since lockout"), default=0)
    consecutive_failures = models.PositiveIntegerField(_("consecutive wrong codes"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("SMS disabled at"), null=True, blank=True)
    # The user's tenant as TENANT_RESOLVER says now, kept in step on every write
    # (``tenancy.sync_user_tenant``): what the console scopes this row by.
    tenant = models.ForeignKey(
        "intelliauth_sms.Tenant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sms_user_states",
    )

    class Meta:
        verbose_name = _("SMS user state")
        verbose_name_plural = _("SMS user states")

    def __str__(self) -> str:
        return f"SMS state of {self.user}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A new row gets the user's tenant from ``TENANT_RESOLVER``."""
        if self.tenant_id is None:
            from intelliauth_sms.tenancy import tenant_for

            self.tenant = tenant_for(self.user)
        super().save(*args, **kwargs)


class SendLock(models.Model):
    """A row to lock for limits that span users, such as the per-IP count."""

    key = models.CharField(max_length=80, primary_key=True)

    class Meta:
        verbose_name = _("send lock")
        verbose_name_plural = _("send locks")

    def __str__(self) -> str:
        return self.key
