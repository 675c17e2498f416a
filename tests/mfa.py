"""How the tests mark a request as having passed the SMS step: through ``MFA_VERIFIED_AT``.

This is the token-site pattern of the README, not a bypass. A site that issues its own
tokens records in each token when its holder passed the SMS step (``claim_verified_flow``
returned the user) and gives ``MFA_VERIFIED_AT`` a callable that reads it; requests without
such a token fall back to the session's MFA time. ``tests.settings`` points
``MFA_VERIFIED_AT`` at :func:`verified_at`; the ``api`` fixture authenticates with a token
whose MFA time is when the fixture was built, and a test that wants a password-only
client authenticates without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from intelliauth_sms.mfa import session_verified_at


@dataclass(frozen=True)
class IssuedToken:
    """What a token site's authentication class leaves in ``request.auth``."""

    mfa_verified_at: datetime | None


def verified_token(at: datetime | None = None) -> IssuedToken:
    """A token whose holder passed the SMS step at ``at`` (default: now)."""
    return IssuedToken(mfa_verified_at=at or timezone.now())


def verified_at(request: Any) -> datetime | None:
    """``MFA_VERIFIED_AT`` of the test settings: the token's MFA time, else the session's."""
    token = getattr(request, "auth", None)
    if isinstance(token, IssuedToken):
        return token.mfa_verified_at
    return session_verified_at(request)
