"""What each tenant has spent on high-cost destinations each UTC day."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.models.tenant import Tenant


class DailySpend(models.Model):
    """A running total, raised by each high-cost send in the send's own transaction, so the
    daily cap reads one row instead of summing the day's messages."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="daily_spend")
    day = models.DateField(_("day (UTC)"))
    high_cost_spend = models.DecimalField(
        _("high-cost spend"), max_digits=14, decimal_places=4, default=Decimal("0")
    )

    class Meta:
        verbose_name = _("daily spend")
        verbose_name_plural = _("daily spend")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="iasms_daily_spend_unique")
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {self.day}: {self.high_cost_spend}"
