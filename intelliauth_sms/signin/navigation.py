"""Where the sign-in pages send people: ``next``, the app's URLs, the API's base URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

NEXT = "next"
NAMESPACE = "intelliauth_sms_signin"


def safe_next(request: HttpRequest) -> str | None:
    """The request's ``next`` (POST, else GET) if it points into this site, else ``None``."""
    candidate = request.POST.get(NEXT) or request.GET.get(NEXT)
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def with_next(url: str, next_url: str | None) -> str:
    """``url`` carrying ``next`` in its query string, when there is one."""
    return f"{url}?{urlencode({NEXT: next_url})}" if next_url else url


def signin_url(request: HttpRequest, name: str, *args: Any) -> str:
    """A URL of the drop-in, in the instance of it that served ``request``."""
    match = request.resolver_match
    current_app = match.namespace if match and match.namespace else None
    return reverse(f"{NAMESPACE}:{name}", args=args, current_app=current_app)


def after_sign_in(request: HttpRequest) -> str:
    """A safe ``next``, else ``LOGIN_REDIRECT_URL``."""
    return safe_next(request) or resolve_url(settings.LOGIN_REDIRECT_URL)


def api_base_url() -> str:
    """Where the site included ``intelliauth_sms.api.urls`` (``/api/mfa/sms/``, say).

    The pages hand it to the JavaScript client; the API must be included for them to work.
    """
    return reverse("intelliauth_sms:enrolment-create").removesuffix("enrolments/")
