"""Sign-in flows: the SMS step between an accepted password and a logged-in session."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.models.factor import SmsFactor
from intelliauth_sms.models.tenant import Tenant


class FlowKind(models.TextChoices):
    SIGN_IN = "sign_in", _("sign-in")
    STEP_UP = "step_up", _("re-authentication (step-up)")
    RECOVERY = "recovery", _("account recovery")


class AuthFlow(models.Model):
    """One sign-in attempt of one user. Its random UUID4 id is the capability.

    A ``step_up`` flow re-proves a signed-in user (``POST reauthentication/``): verifying it
    refreshes the session's MFA time; it can never be used to log in. A ``recovery`` flow
    is an SMS account recovery (``POST recovery/``) to the user's backup phone: its id is
    the recovery id, and only ``recovery_login`` may log in with it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_flows"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sms_flows")
    kind = models.CharField(
        _("kind"), max_length=16, choices=FlowKind.choices, default=FlowKind.SIGN_IN
    )
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    # Keyed hash of a secret kept in the session that started the flow; blank = unbound.
    session_binding = models.CharField(_("session binding"), max_length=64, blank=True)
    factor = models.ForeignKey(
        SmsFactor, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    logged_in_at = models.DateTimeField(_("used for login at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in flow")
        verbose_name_plural = _("sign-in flows")

    def __str__(self) -> str:
        return f"Sign-in flow {self.id}"

    @property
    def is_verified(self) -> bool:
        """True once the SMS step succeeded."""
        return self.verified_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
