"""One exception handler renders every error in the contract's shape."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from intelliauth_sms.exceptions import NotFound, RateLimited, RetryAfterError, SmsError


def _body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _from_drf(exc: exceptions.APIException) -> tuple[int, dict[str, Any]]:
    """Map DRF's own errors (auth, parsing, methods) onto the same body."""
    if isinstance(exc, exceptions.Throttled):
        limited = RateLimited.for_wait(int(getattr(exc, "wait", None) or 60))
        return limited.status_code, limited.as_body()
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return exc.status_code, _body("not_authenticated", str(exc.detail))
    if isinstance(exc, exceptions.PermissionDenied):
        return exc.status_code, _body("permission_denied", str(exc.detail))
    if isinstance(exc, exceptions.MethodNotAllowed):
        return exc.status_code, _body("method_not_allowed", str(exc.detail))
    if isinstance(exc, exceptions.NotFound):
        return NotFound.status_code, NotFound().as_body()
    # ParseError, UnsupportedMediaType and anything else about the request body.
    return status.HTTP_400_BAD_REQUEST, _body(
        "invalid_request", _("The request could not be read. Send a JSON object.")
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler for the app's views.

    It deliberately does not mark ``ATOMIC_REQUESTS`` transactions for rollback: services
    keep their own transactions, and the audit event of a refusal must be kept.
    """
    headers: dict[str, str] = {}
    if isinstance(exc, SmsError):
        status_code, body = exc.status_code, exc.as_body()
        if isinstance(exc, RetryAfterError) and exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, Http404):
        status_code, body = NotFound.status_code, NotFound().as_body()
    elif isinstance(exc, DjangoPermissionDenied):
        status_code, body = 403, _body("permission_denied", _("Permission denied."))
    elif isinstance(exc, exceptions.APIException):
        status_code, body = _from_drf(exc)
        retry_after = body["error"].get("retry_after")
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = str(exc.auth_header)  # type: ignore[attr-defined]
    else:
        return None
    return Response(body, status=status_code, headers=headers)
