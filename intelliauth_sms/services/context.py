"""Who is asking: the user, their tenant and the client IP, resolved once per call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from intelliauth_sms.client_ip import client_ip
from intelliauth_sms.models import Tenant
from intelliauth_sms.tenancy import tenant_for


@dataclass(frozen=True)
class Caller:
    """The user a service acts for, with their tenant and IP (``None`` outside HTTP)."""

    user: Any
    tenant: Tenant
    ip: str | None = None
    request: HttpRequest | None = None

    @classmethod
    def for_user(cls, user: Any, request: HttpRequest | None = None) -> Caller:
        """Resolve the tenant (``TENANT_RESOLVER``) and IP (``CLIENT_IP_RESOLVER``)."""
        return cls(user=user, tenant=tenant_for(user), ip=client_ip(request), request=request)
