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


#: IPv6 clients are counted by their /64: one subscriber or host usually holds a whole /64,
#: so counting each address separately would multiply the per-IP limit (CONTRACT §2).
IPV6_PREFIX = 64


def ip_bucket(ip: str | None) -> str | None:
    """What the per-IP limits count ``ip`` as; ``None`` is the one shared no-address bucket.

    IPv4 as itself; an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``) as that IPv4
    address; any other IPv6 address as the network address of its /64. An empty or
    unparsable address is ``None``: requests without a usable address share one count,
    so they are never unlimited.
    """
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network(f"{address}/{IPV6_PREFIX}", strict=False)
        return str(network.network_address)
    return str(address)
