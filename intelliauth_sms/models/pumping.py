"""The SMS-pumping breaker's state per tenant and destination prefix (CONTRACT §2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.models.tenant import Tenant


class PrefixBreaker(models.Model):
    """One tenant's breaker for one destination prefix: the first 7 digits of E.164.

    Found by the prefix's keyed hash; the digits themselves are kept only once it trips
    (the console and the trip's audit event name them). The row is also what concurrent
    sends to the prefix lock, so a trip is decided once.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="breakers")
    prefix_hash = models.CharField(_("prefix hash"), max_length=40)
    prefix = models.CharField(_("prefix"), max_length=7, blank=True)
    tripped_at = models.DateTimeField(_("tripped at"), null=True, blank=True)
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    # Sends before this moment no longer count toward a new trip (an admin cleared it).
    counted_from = models.DateTimeField(_("counted from"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    monitor_only = models.BooleanField(
        _("monitor only"),
        default=False,
        help_text=_("Record trips for this prefix, never pause it."),
    )

    class Meta:
        verbose_name = _("SMS-pumping breaker")
        verbose_name_plural = _("SMS-pumping breakers")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "prefix_hash"], name="iasms_breaker_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix or '•••'}… ({self.tenant})"

    @property
    def is_paused(self) -> bool:
        return self.paused_until is not None and self.paused_until > timezone.now()
