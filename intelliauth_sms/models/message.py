"""The record of each outbound SMS: what it cost and what became of it, never its body."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.models.code import CodePurpose, SmsCode
from intelliauth_sms.models.phone_fields import EncryptedPhone
from intelliauth_sms.models.tenant import Tenant


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    # From the provider's delivery report (``intelliauth_sms.api.webhooks``).
    DELIVERED = "delivered", _("Delivered")
    UNDELIVERED = "undelivered", _("Not delivered")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Not sent: code no longer valid")


class SmsMessage(EncryptedPhone):
    """An SMS the gate let through; its rows are what the rolling send limits count.

    The destination stays encrypted until the task has sent it, then it is cleared.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.OneToOneField(SmsCode, on_delete=models.CASCADE, related_name="message")
    # No index of their own: the composite indexes below lead with ``user`` and ``tenant``
    # and serve every lookup by either, cascades included. Each index costs every send's
    # insert and every outcome's update (which cannot be a HOT update).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sms_messages",
        db_index=False,
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="sms_messages", db_index=False
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=CodePurpose.choices)
    subject_id = models.UUIDField(_("subject id"))
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=10, decimal_places=4, default=Decimal("0")
    )
    high_cost = models.BooleanField(_("high-cost destination"), default=False)
    # A keyed hash of the number's first 7 digits: what the pumping breaker groups sends
    # by. Not the digits themselves: with ``phone_last4`` they would spell most numbers.
    prefix_hash = models.CharField(_("prefix hash"), max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    provider_message_id = models.CharField(_("provider message id"), max_length=128, blank=True)
    # The provider's own error code ("21211", "InvalidParameter", Vonage's "3"), from the
    # send's answer or its delivery report; never the provider's text (it can quote the number).
    provider_error = models.CharField(_("provider error"), max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The language active in the request that sent it: the SMS text is written in it, also
    # when a retry or the sweep sends it later.
    language = models.CharField(_("language"), max_length=16, blank=True)
    # A keyed hash of the message id and its current code: the delivery task's one-statement
    # claim checks its sealed code against it (``services.delivery_claim``).
    payload_check = models.CharField(_("payload check"), max_length=64, blank=True)
    # When the message is next due at a worker: when it was queued, or when a retry after a
    # transient failure is scheduled. A message still ``queued`` well after this moment lost
    # its task (the broker was down): the sweep (``services.requeue``) queues it again.
    due_at = models.DateTimeField(_("due at"), default=timezone.now)
    # How many times a worker handed it to the provider(s); transient failures add one each.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        # One index per rolling-window query of the send-policy gate.
        indexes = [
            models.Index(fields=["user", "purpose", "created_at"], name="iasms_msg_user_window"),
            models.Index(fields=["subject_id", "created_at"], name="iasms_msg_subject_window"),
            models.Index(fields=["client_ip", "created_at"], name="iasms_msg_ip_window"),
            models.Index(
                fields=["tenant", "high_cost", "created_at"], name="iasms_msg_cost_window"
            ),
            # The per-destination cap (every tenant) and the breaker (per tenant, prefix).
            models.Index(fields=["phone_hash", "created_at"], name="iasms_msg_dest_window"),
            models.Index(
                fields=["tenant", "prefix_hash", "created_at"], name="iasms_msg_prefix_window"
            ),
            # The sweep's scan: messages still holding their destination (queued or
            # sending). Not a condition on ``status``: an index naming ``status`` would stop
            # PostgreSQL from updating the row in place (HOT) when a worker claims it.
            models.Index(
                fields=["due_at"],
                name="iasms_msg_unsent_due",
                condition=~models.Q(phone_number=""),
            ),
            # The console's messages list: a tenant's newest first.
            models.Index(fields=["tenant", "-created_at"], name="iasms_msg_tenant_recent"),
            # Delivery reports find their message by the provider's id.
            models.Index(
                fields=["provider_message_id"],
                name="iasms_msg_provider_id",
                condition=~models.Q(provider_message_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"SMS to {self.phone_number_masked} ({self.status})"
