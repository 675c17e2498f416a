"""The error contract: every refusal is an ``SmsError`` with a stable code and user copy.

Services raise these; ``intelliauth_sms.api.errors.exception_handler`` renders them as
``{"error": {"code", "message", ...}}`` with the right status and ``Retry-After``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def minutes_phrase(seconds: int) -> str:
    """Return "N minute(s)" for a wait, rounded up to whole minutes (at least one)."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


class SmsError(Exception):
    """Base of every refusal the app reports to a caller."""

    code: str = "invalid_request"
    status_code: int = 400

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.extra = extra
        #: What the refusal's audit event records besides its code (never in the body).
        self.audit_detail: dict[str, Any] | None = None
        #: What the refusal decided that must outlast the rollback of the refused send
        #: (an SMS-pumping breaker trip); ``audit.refusals_recorded`` runs it afterwards.
        self.on_refused: Callable[[], object] | None = None
        super().__init__(message or self.default_message())

    @property
    def message(self) -> str:
        return str(self.args[0])

    def default_message(self) -> str:
        return _("The request could not be read. Send a JSON object.")

    def as_body(self) -> dict[str, Any]:
        """The JSON error body of the contract."""
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


class InvalidRequest(SmsError):
    code = "invalid_request"


class InvalidPhoneNumber(SmsError):
    code = "invalid_phone_number"

    def default_message(self) -> str:
        return _("Enter the phone number in international format, for example +14155550100.")


class InvalidCodeFormat(SmsError):
    code = "invalid_code_format"

    def default_message(self) -> str:
        return _("Enter the 6-digit code from the SMS.")


def _latest_code_copy(ttl_seconds: int) -> str:
    return _("Make sure you typed the latest code. Codes expire after %(wait)s.") % {
        "wait": minutes_phrase(ttl_seconds)
    }


class InvalidCode(SmsError):
    """A wrong code; the body carries ``attempts_remaining``."""

    code = "invalid_code"

    def __init__(self, *, attempts_remaining: int, ttl_seconds: int) -> None:
        super().__init__(_latest_code_copy(ttl_seconds), attempts_remaining=attempts_remaining)


class CodeExpired(SmsError):
    """Expired, already used, or replaced by a newer code."""

    code = "code_expired"

    def __init__(self, *, ttl_seconds: int) -> None:
        super().__init__(_latest_code_copy(ttl_seconds))


class RetryAfterError(SmsError):
    """An error that tells the caller how long to wait (``retry_after`` may be ``None``)."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int | None) -> None:
        self.retry_after = retry_after
        super().__init__(message, retry_after=retry_after)


class Locked(RetryAfterError):
    code = "locked"

    @classmethod
    def for_wait(cls, retry_after: int | None) -> Locked:
        """The lockout error; ``None`` means SMS is disabled until support unlocks it."""
        if retry_after is None:
            message = _(
                "Too many incorrect codes. SMS codes are turned off for this account "
                "until support unlocks it."
            )
        else:
            message = _("Too many incorrect codes. Wait %(wait)s, then try again.") % {
                "wait": minutes_phrase(retry_after)
            }
        return cls(message, retry_after=retry_after)


class RateLimited(RetryAfterError):
    code = "rate_limited"

    @classmethod
    def for_wait(cls, retry_after: int) -> RateLimited:
        """The guide's resend copy, naming the real wait."""
        message = _("Codes are limited to a few per hour. Wait %(wait)s, then try again.") % {
            "wait": minutes_phrase(retry_after)
        }
        return cls(message, retry_after=retry_after)


class SignInThrottled(RateLimited):
    """Too many failed password attempts for this username or from this IP (CONTRACT §4)."""

    @classmethod
    def for_wait(cls, retry_after: int) -> SignInThrottled:
        """The sign-in copy, naming the real wait rounded up to minutes."""
        message = _("Too many sign-in attempts. Wait %(wait)s, then try again.") % {
            "wait": minutes_phrase(retry_after)
        }
        return cls(message, retry_after=retry_after)


class CountryNotAllowed(SmsError):
    code = "country_not_allowed"
    status_code = 403

    def default_message(self) -> str:
        return _("We can't send codes to phone numbers in this country.")


class CostCapReached(SmsError):
    code = "cost_cap_reached"
    status_code = 403

    def default_message(self) -> str:
        return _("We can't send codes to this destination right now. Try again tomorrow.")


class RecoveryNotAllowed(SmsError):
    code = "recovery_not_allowed"
    status_code = 403

    def default_message(self) -> str:
        return _("Account recovery by SMS isn't available for this account.")


class InvalidCredentials(SmsError):
    code = "invalid_credentials"

    def default_message(self) -> str:
        return _("The details you entered don't match our records.")


class MfaRequired(SmsError):
    """The user has an SMS factor and this request has not passed the SMS step."""

    code = "mfa_required"
    status_code = 403

    def default_message(self) -> str:
        return _("Confirm it's you with the code we text you before managing your phones.")


class ReauthenticationRequired(SmsError):
    """A sensitive action needs an SMS step within ``REAUTHENTICATION_SECONDS``."""

    code = "reauthentication_required"
    status_code = 403

    def default_message(self) -> str:
        return _("For your security, confirm it's you with a new code before doing this.")


class DestinationPaused(SmsError):
    """The SMS-pumping breaker has paused sends to this number's prefix.

    ``on_refused`` (not part of the body) runs after the refused send's transaction rolled
    back, so a trip the refusal decided is recorded all the same.
    """

    code = "destination_paused"
    status_code = 403

    def __init__(
        self, message: str | None = None, *, on_refused: Callable[[], object] | None = None
    ) -> None:
        super().__init__(message)
        self.on_refused = on_refused

    def default_message(self) -> str:
        return _("We can't send codes to this number right now. Try again later.")


class InvalidSignature(SmsError):
    """A provider webhook whose signature is missing, wrong or replayed."""

    code = "invalid_signature"
    status_code = 403

    def default_message(self) -> str:
        return _("The request's signature does not verify.")


class NotFound(SmsError):
    code = "not_found"
    status_code = 404

    def default_message(self) -> str:
        return _("Not found.")


class AlreadyEnrolled(SmsError):
    """Extension to the contract's table: the number is already one of the user's factors."""

    code = "already_enrolled"
    status_code = 409

    def default_message(self) -> str:
        return _("This phone number is already enrolled.")
