"""Tenants, who belongs to them, and each tenant's sending policy and country rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.models.policy_limits import (
    MAX_CODE_TTL_SECONDS,
    MIN_CODE_TTL_SECONDS,
    POLICY_LIMITS,
)

DEFAULT_TENANT_SLUG = "default"


class Tenant(models.Model):
    """An organisation whose users, policy and audit trail are kept apart from others'."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantMembership(models.Model):
    """Places a user in a tenant, with the role they hold there."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Tenant admin")
        SUPPORT = "support", _("Support staff")
        # Extension: an ordinary user of the tenant's site (no console rights).
        MEMBER = "member", _("Member")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tenant membership")
        verbose_name_plural = _("tenant memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="iasms_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"


class PumpingProtection(models.TextChoices):
    ENFORCE = "enforce", _("Enforce: pause sends to the prefix")
    MONITOR = "monitor", _("Monitor: record trips, send anyway")
    OFF = "off", _("Off")


class TenantPolicy(models.Model):
    """The tenant's limits and recovery rules (CONTRACT §2); read afresh on every request."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="policy")
    enrolment_sms_per_hour = models.PositiveIntegerField(
        _("enrolment SMS per hour"),
        default=5,
        validators=POLICY_LIMITS["enrolment_sms_per_hour"].validators(),
        help_text=_("Enrolment codes one user may be sent in any rolling 60 minutes."),
    )
    auth_sms_per_hour = models.PositiveIntegerField(
        _("sign-in SMS per flow per hour"),
        default=3,
        validators=POLICY_LIMITS["auth_sms_per_hour"].validators(),
        help_text=_("Codes sent for one authentication flow in any rolling 60 minutes."),
    )
    user_auth_sms_per_hour = models.PositiveIntegerField(
        _("sign-in SMS per user per hour"),
        default=10,
        validators=POLICY_LIMITS["user_auth_sms_per_hour"].validators(),
        help_text=_(
            "Sign-in and recovery codes one user may be sent across all of their flows in "
            "any rolling 60 minutes (SMS bombing of one account)."
        ),
    )
    destination_sms_per_hour = models.PositiveIntegerField(
        _("SMS per phone number per hour"),
        default=10,
        validators=POLICY_LIMITS["destination_sms_per_hour"].validators(),
        help_text=_(
            "Codes one phone number may be sent in any rolling 60 minutes, across every "
            "user and tenant."
        ),
    )
    pumping_protection = models.CharField(
        _("SMS-pumping breaker"),
        max_length=8,
        choices=PumpingProtection.choices,
        default=PumpingProtection.ENFORCE,
        help_text=_(
            "Pauses sends to a number prefix (its first 7 digits) for 60 minutes once it "
            "has had 30 sends in an hour of which fewer than 20 % were verified."
        ),
    )
    ip_sms_per_hour = models.PositiveIntegerField(
        _("SMS per IP per hour"),
        default=20,
        validators=POLICY_LIMITS["ip_sms_per_hour"].validators(),
        help_text=_(
            "Sends one client IP may trigger in any rolling 60 minutes, across all users. "
            "Defends against attackers walking phone numbers."
        ),
    )
    max_failed_attempts = models.PositiveIntegerField(
        _("wrong codes before lockout"),
        default=5,
        validators=POLICY_LIMITS["max_failed_attempts"].validators(),
        help_text=_("Wrong codes in a row before the code is burned and the user locked."),
    )
    lockout_minutes = models.PositiveIntegerField(
        _("lockout minutes"),
        default=15,
        validators=POLICY_LIMITS["lockout_minutes"].validators(),
        help_text=_("Length of the failed-code lockout."),
    )
    disable_after_failures = models.PositiveIntegerField(
        _("disable SMS after failures"),
        default=20,
        validators=POLICY_LIMITS["disable_after_failures"].validators(),
        help_text=_(
            "Consecutive wrong codes, across lockouts, after which SMS is disabled for the "
            "user until support unlocks it (at most 100, NIST SP 800-63B-4)."
        ),
    )
    code_ttl_seconds = models.PositiveIntegerField(
        _("code lifetime (seconds)"),
        default=300,
        validators=POLICY_LIMITS["code_ttl_seconds"].validators(),
        help_text=_(
            "A code's life, from 30 seconds to 10 minutes (NIST SP 800-63B-4). "
            "The guide's default is 5 minutes."
        ),
    )
    daily_high_cost_cap = models.DecimalField(
        _("daily high-cost cap"),
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "Spend per UTC day on high-cost destinations, after which they are refused. "
            "Empty: no cap."
        ),
    )
    allow_sms_recovery = models.BooleanField(
        _("allow SMS recovery"),
        default=False,
        help_text=_("Whether SMS to a verified backup phone may be used for account recovery."),
    )
    recovery_requires_security_answers = models.BooleanField(
        _("recovery requires security answers"),
        default=False,
        help_text=_("Recovery needs the security answers as well as the password."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("tenant policy")
        verbose_name_plural = _("tenant policies")
        constraints = [
            # NIST SP 800-63B-4: an out-of-band secret lives at most 10 minutes; enforced in
            # the database too, so a ``save()`` in code cannot go past it.
            models.CheckConstraint(
                condition=models.Q(
                    code_ttl_seconds__gte=MIN_CODE_TTL_SECONDS,
                    code_ttl_seconds__lte=MAX_CODE_TTL_SECONDS,
                ),
                name="iasms_policy_code_ttl_range",
            )
        ]

    def __str__(self) -> str:
        return f"Policy of {self.tenant}"


class CountryRule(models.Model):
    """Prices a destination country and optionally allows or blocks it."""

    class Action(models.TextChoices):
        ALLOW = "allow", _("Allow")
        BLOCK = "block", _("Block")
        PRICE_ONLY = "", _("Price only")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="country_rules")
    country = models.CharField(
        _("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code, e.g. GB.")
    )
    action = models.CharField(
        _("action"), max_length=8, choices=Action.choices, blank=True, default=""
    )
    unit_cost = models.DecimalField(
        _("unit cost"),
        max_digits=10,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    high_cost = models.BooleanField(
        _("high-cost destination"),
        default=False,
        help_text=_("Sends here count toward the daily high-cost cap."),
    )

    class Meta:
        verbose_name = _("country rule")
        verbose_name_plural = _("country rules")
        ordering = ["country"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "country"], name="iasms_country_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.country}: {self.action or 'price'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Codes are compared with libphonenumber's upper-case regions.
        self.country = self.country.strip().upper()
        super().save(*args, **kwargs)
