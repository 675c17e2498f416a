"""Security questions a tenant offers, and users' answers to them (hashed, never readable)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.models.tenant import Tenant


class SecurityQuestion(models.Model):
    """A question a tenant offers in addition to the site's ``SECURITY_QUESTIONS``.

    Its public id (what the API lists and answers name) is ``tenant-<uuid>``, so it can
    never clash with the site's own ids.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="security_questions")
    text = models.CharField(_("question"), max_length=200)
    is_active = models.BooleanField(
        _("offered"), default=True, help_text=_("Untick to stop offering it to new answers.")
    )

    class Meta:
        verbose_name = _("security question")
        verbose_name_plural = _("security questions")
        ordering = ["text"]

    def __str__(self) -> str:
        return self.text

    @property
    def public_id(self) -> str:
        return f"tenant-{self.id}"


class SecurityAnswer(models.Model):
    """One user's answer to one question, stored only as a Django password hash."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_security_answers"
    )
    question_id = models.CharField(_("question id"), max_length=64)
    answer_hash = models.CharField(_("answer hash"), max_length=256)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("security answer")
        verbose_name_plural = _("security answers")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "question_id"], name="iasms_answer_unique_question"
            )
        ]

    def __str__(self) -> str:
        return f"Answer of {self.user_id} to {self.question_id}"
