"""CSRF for the flow and recovery endpoints, which serve users who are not signed in yet.

DRF's ``SessionAuthentication`` only checks CSRF for signed-in users. A sign-in flow or a
recovery started by a browser is bound to that browser's session, so a request that
carries the session cookie must carry the CSRF token too; token and headless clients send
no cookie. This authentication class authenticates nobody: it runs DRF's own
``enforce_csrf`` on cookie-carrying requests and lets the rest through.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request


class SessionCookieCsrf(SessionAuthentication):
    """No user, ever; ``PermissionDenied`` (403) when a session-cookie request fails CSRF."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        if settings.SESSION_COOKIE_NAME in request._request.COOKIES:
            self.enforce_csrf(request)
        return None
