"""The allowed range of each tenant policy limit, defined once.

The model's validators, its database check and the console form's bounds and messages all
read this table, so a range cannot drift between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

#: The most SMS any hourly limit may allow: beyond it a "limit" limits nothing.
MAX_SMS_PER_HOUR = 100_000
#: Wrong codes before a lockout, and in a row before SMS is disabled (NIST SP 800-63B-4
#: asks for at most 100 consecutive failures).
MAX_WRONG_CODES = 100
#: The longest lockout: one day.
MAX_LOCKOUT_MINUTES = 24 * 60
#: A code's life: at least 30 seconds (time to type it), at most 10 minutes (NIST SP
#: 800-63B-4 for an out-of-band secret).
MIN_CODE_TTL_SECONDS = 30
MAX_CODE_TTL_SECONDS = 10 * 60


@dataclass(frozen=True)
class Limit:
    """A whole-number policy setting's range and the message that names it."""

    minimum: int
    maximum: int
    message: Any

    def validators(self) -> list[Any]:
        """The model field's validators for this range."""
        return [MinValueValidator(self.minimum), MaxValueValidator(self.maximum)]


_RATE = Limit(
    1,
    MAX_SMS_PER_HOUR,
    _("Enter a limit from 1 to 100000 per hour: zero or a negative limit would refuse every SMS."),
)

POLICY_LIMITS: dict[str, Limit] = {
    "enrolment_sms_per_hour": _RATE,
    "auth_sms_per_hour": _RATE,
    "ip_sms_per_hour": _RATE,
    "user_auth_sms_per_hour": _RATE,
    "destination_sms_per_hour": _RATE,
    "max_failed_attempts": Limit(
        1, MAX_WRONG_CODES, _("Enter a number of wrong codes from 1 to 100.")
    ),
    "lockout_minutes": Limit(
        1, MAX_LOCKOUT_MINUTES, _("Enter a lockout from 1 minute to 24 hours (1440).")
    ),
    "disable_after_failures": Limit(
        1,
        MAX_WRONG_CODES,
        _("Enter a number of consecutive wrong codes from 1 to 100 (NIST SP 800-63B)."),
    ),
    "code_ttl_seconds": Limit(
        MIN_CODE_TTL_SECONDS,
        MAX_CODE_TTL_SECONDS,
        _("A code must live between 30 seconds and 10 minutes (600 seconds)."),
    ),
}
