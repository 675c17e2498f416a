"""The per-IP request flood guard, with django-ratelimit over the shared cache.

This is not the contract's per-IP *send* limit (that is exact and rolling, in the database,
see ``services.policy``). It caps how many API requests one IP may make per minute, so code
guessing across many users and bad-input floods stay cheap to refuse. A fixed window and a
cache that may lose counts are acceptable here; the ``intelliauth_sms.E003`` check makes
sure the cache is shared between processes in production.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from intelliauth_sms.client_ip import client_ip, ip_bucket
from intelliauth_sms.conf import app_settings
from intelliauth_sms.exceptions import RateLimited


def _ip_key(group: str, request: HttpRequest) -> str:
    # The same buckets as the send limit: an IPv6 /64, mapped IPv4 as IPv4, and one shared
    # bucket for requests without a usable address.
    return ip_bucket(client_ip(request)) or "no-address"


def guard_request_rate(request: HttpRequest) -> None:
    """Raise ``RateLimited`` when the client IP exceeds ``REQUEST_RATE``."""
    rate = app_settings.REQUEST_RATE
    if not rate:
        return
    usage: dict[str, Any] | None = get_usage(
        request, group="intelliauth_sms.api", key=_ip_key, rate=rate, method=ALL, increment=True
    )
    if usage and usage["should_limit"]:
        raise RateLimited.for_wait(max(1, int(usage["time_left"])))
