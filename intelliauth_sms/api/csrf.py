"""CSRF for the flow endpoints, which serve users who are not signed in yet.

DRF's SessionAuthentication only checks CSRF for signed-in users. A sign-in flow started
by a browser is bound to that browser's session, so a request that carries the session
cookie must carry the CSRF token too; token and headless clients send no cookie.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from rest_framework.authentication import CSRFCheck
from rest_framework.exceptions import PermissionDenied


def _no_response(request: HttpRequest) -> None:  # pragma: no cover - never called
    return None


def enforce_csrf_for_session(request: HttpRequest) -> None:
    """Raise ``PermissionDenied`` when a cookie-carrying request fails Django's CSRF check."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return
    check = CSRFCheck(_no_response)  # type: ignore[arg-type]
    check.process_request(request)
    # DRF's CSRFCheck returns the failure reason as a string, not a response.
    reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
    if reason:
        raise PermissionDenied(f"CSRF failed: {reason}")
