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
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from intelliauth_sms.client_ip import client_ip, ip_bucket
from intelliauth_sms.conf import app_settings


def _ip_key(group: str, request: HttpRequest) -> str:
    # The same buckets as the send limit: an IPv6 /64, mapped IPv4 as IPv4, and one shared
    # bucket for requests without a usable address.
    return ip_bucket(client_ip(request)) or "no-address"


class RequestRateThrottle(BaseThrottle):
    """DRF throttle over django-ratelimit's atomic counter: ``REQUEST_RATE`` per client IP.

    ``SmsApiView`` checks it before authentication and permissions rather than in DRF's
    ``throttle_classes`` (checked after them): those cost queries, and refusals of the
    MFA-bound rule write audit events, which a flood must not be able to multiply.
    """

    def __init__(self) -> None:
        self.wait_seconds: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        rate = app_settings.REQUEST_RATE
        if not rate:
            return True
        usage: dict[str, Any] | None = get_usage(
            request._request,
            group="intelliauth_sms.api",
            key=_ip_key,
            rate=rate,
            method=ALL,
            increment=True,
        )
        if usage and usage["should_limit"]:
            self.wait_seconds = max(1, int(usage["time_left"]))
            return False
        return True

    def wait(self) -> float | None:
        return self.wait_seconds
