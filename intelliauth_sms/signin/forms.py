"""The password form of the drop-in sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from intelliauth_sms.exceptions import SignInThrottled
from intelliauth_sms.services import password_attempts


class SignInForm(AuthenticationForm):
    """Django's ``AuthenticationForm``, with failed attempts limited per username and IP.

    The limits are checked before the password, so while one holds even the right password
    is refused, with the same message for a username that is no account.
    """

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data  # a field is missing: its own error says so
        try:
            attempt = password_attempts.check(self.request, username)
        except SignInThrottled as refusal:
            raise ValidationError(refusal.message, code="throttled") from refusal
        try:
            cleaned = super().clean()
        except ValidationError:
            password_attempts.record_failure(attempt)
            raise
        password_attempts.record_success(attempt)
        return cleaned
