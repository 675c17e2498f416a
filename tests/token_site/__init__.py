"""A token site, as the README describes it: its own bearer tokens carry the MFA time.

The site's password step calls ``start_flow(user)`` and hands the flow id to its client;
the client runs the SMS step through the flow endpoints; the site then calls
``claim_verified_flow(flow_id)`` and issues a token recording when the step was passed.
``MFA_VERIFIED_AT`` (tests/mfa.py ``verified_at``) reads that time from ``request.auth``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.dateparse import parse_datetime
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from tests.mfa import IssuedToken

SALT = "tests.token_site"


def issue_token(user: Any, *, mfa_verified_at: datetime | None) -> str:
    """A signed bearer token for ``user``; ``mfa_verified_at`` None: password only."""
    payload = {"user": user.pk, "mfa": mfa_verified_at.isoformat() if mfa_verified_at else None}
    return signing.dumps(payload, salt=SALT)


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``; ``request.auth`` becomes an ``IssuedToken``."""

    def authenticate(self, request: Request) -> tuple[Any, IssuedToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer "):
            return None
        try:
            payload = signing.loads(header.removeprefix("Bearer "), salt=SALT, max_age=3600)
        except signing.BadSignature as exc:
            raise AuthenticationFailed("Invalid token.") from exc
        user = get_user_model().objects.filter(pk=payload["user"]).first()
        if user is None:
            raise AuthenticationFailed("Invalid token.")
        at = parse_datetime(payload["mfa"]) if payload["mfa"] else None
        return user, IssuedToken(mfa_verified_at=at)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
