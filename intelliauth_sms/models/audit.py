"""The append-only audit trail (CONTRACT §5)."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.models.tenant import Tenant


class EventType(models.TextChoices):
    SMS_SENT = "sms_sent", _("SMS code sent")
    SMS_REFUSED = "sms_refused", _("SMS send refused")
    SMS_DELIVERY_FAILED = "sms_delivery_failed", _("SMS delivery failed")
    SMS_DELIVERY_RETRIED = "sms_delivery_retried", _("SMS delivery retried (transient failure)")
    SMS_REQUEUED = "sms_requeued", _("SMS queued again by the sweep")
    SMS_NOT_SENT_EXPIRED = "sms_not_sent_expired", _("SMS not sent: code expired")
    SMS_DELIVERED = "sms_delivered", _("SMS delivered (provider report)")
    SMS_UNDELIVERED = "sms_undelivered", _("SMS not delivered (provider report)")
    CODE_CHECKED = "code_checked", _("Code checked")
    LOCKOUT_STARTED = "lockout_started", _("Lockout started")
    SMS_DISABLED = "sms_disabled", _("SMS disabled after repeated failures")
    USER_UNLOCKED = "user_unlocked", _("User unlocked")
    ENROLMENT_REFUSED = "enrolment_refused", _("Enrolment refused")
    FLOW_STEP_REFUSED = "flow_step_refused", _("Sign-in SMS step refused")
    MFA_VERIFIED = "mfa_verified", _("Sign-in SMS step verified")
    FLOW_LOGIN = "flow_login", _("Signed in after the SMS step")
    REAUTHENTICATION_STARTED = "reauthentication_started", _("Re-authentication started")
    REAUTHENTICATED = "reauthenticated", _("Re-authenticated with the SMS step")
    ACCESS_REFUSED = "access_refused", _("Refused: the SMS step is required")
    PASSWORD_REFUSED = "password_refused", _("Sign-in password refused")
    PUMPING_BREAKER_TRIPPED = "pumping_breaker_tripped", _("SMS-pumping breaker tripped")
    PUMPING_BREAKER_CLEARED = "pumping_breaker_cleared", _("SMS-pumping breaker cleared")
    SMS_QUEUE_UNAVAILABLE = "sms_queue_unavailable", _("SMS queued: task broker unavailable")
    FACTOR_ENROLLED = "factor_enrolled", _("Factor enrolled")
    FACTOR_REMOVED = "factor_removed", _("Factor removed")
    NUMBER_REVEALED = "number_revealed", _("Phone number revealed")
    POLICY_CHANGED = "policy_changed", _("Policy changed")
    RECOVERY_REQUESTED = "recovery_requested", _("Recovery requested")
    RECOVERY_REFUSED = "recovery_refused", _("Recovery refused")
    RECOVERY_COMPLETED = "recovery_completed", _("Recovery completed")
    RECOVERY_LOGIN = "recovery_login", _("Signed in after recovery")
    SECURITY_ANSWERS_CHANGED = "security_answers_changed", _("Security answers changed")
    EMAIL_SENT = "email_sent", _("Notification email sent")
    EMAIL_FAILED = "email_failed", _("Notification email failed")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Refuses bulk changes: the trail is append-only."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit events are append-only.")

    def delete(self) -> NoReturn:
        raise TypeError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One thing that happened. Holds at most the last 4 digits of a number, never a code."""

    created_at = models.DateTimeField(_("created at"), db_index=True)
    event_type = models.CharField(_("event type"), max_length=32, choices=EventType.choices)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    failure_code = models.CharField(_("failure code"), max_length=32, blank=True)
    purpose = models.CharField(_("purpose"), max_length=16, blank=True)
    is_recovery = models.BooleanField(_("recovery event"), default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sms_audit_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Who acted, where it was not the user (support staff, tenant admin)."),
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    phone_last4 = models.CharField(_("last 4 digits"), max_length=4, blank=True)
    subject_id = models.UUIDField(_("subject id"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="iasms_audit_tenant_time"),
            models.Index(fields=["user", "-created_at"], name="iasms_audit_user_time"),
            # One per filter of the admin console, led by the tenant its staff are scoped
            # to, in the list's time order (benchmarks/admin_changelist.py). The partial
            # ones only hold failures or recovery events, so they cost little to maintain.
            models.Index(
                fields=["tenant", "event_type", "-created_at"], name="iasms_audit_tenant_type"
            ),
            # Superusers filter by type across tenants.
            models.Index(fields=["event_type", "-created_at"], name="iasms_audit_type_time"),
            models.Index(
                fields=["tenant", "-created_at"],
                name="iasms_audit_tenant_failures",
                condition=models.Q(outcome="failure"),
            ),
            models.Index(
                fields=["tenant", "failure_code", "-created_at"],
                name="iasms_audit_tenant_fcode",
                condition=models.Q(outcome="failure"),
            ),
            models.Index(
                fields=["tenant", "-created_at"],
                name="iasms_audit_tenant_recovery",
                condition=models.Q(is_recovery=True),
            ),
            models.Index(
                fields=["-created_at"],
                name="iasms_audit_recovery_time",
                condition=models.Q(is_recovery=True),
            ),
            models.Index(
                fields=["actor", "-created_at"],
                name="iasms_audit_actor_time",
                condition=models.Q(actor__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.outcome} {self.failure_code}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit events are append-only.")
