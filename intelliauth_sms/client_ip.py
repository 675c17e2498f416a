"""Client IP resolution for the per-IP send limit."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest
from django.utils.module_loading import import_string

from intelliauth_sms.conf import app_settings


def remote_addr(request: HttpRequest) -> str | None:
    """The default resolver: ``REMOTE_ADDR``. Sites behind a proxy supply their own."""
    value = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The client IP of ``request`` through the configured resolver, or ``None``."""
    if request is None:
        return None
    resolver = import_string(app_settings.CLIENT_IP_RESOLVER)
    value = resolver(request)
    return str(value) if value else None
