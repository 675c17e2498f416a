"""Receivers the app connects in ``AppConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, router


def create_tenant_policy(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """Every tenant gets its policy, with the contract's defaults, when it is created."""
    if created and not raw:
        from intelliauth_sms.models import TenantPolicy

        TenantPolicy.objects.using(instance._state.db).get_or_create(tenant=instance)


def ensure_default_tenant(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """After ``migrate`` (and after ``flush``) the ``default`` tenant and its policy exist."""
    from intelliauth_sms.models import DEFAULT_TENANT_SLUG, Tenant, TenantPolicy

    if not router.allow_migrate_model(using, Tenant):
        return
    tenant, _created = Tenant.objects.using(using).get_or_create(
        slug=DEFAULT_TENANT_SLUG, defaults={"name": "Default"}
    )
    TenantPolicy.objects.using(using).get_or_create(tenant=tenant)
