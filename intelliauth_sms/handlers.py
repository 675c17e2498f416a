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


def membership_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """A membership was saved or deleted: the user's SMS rows follow their tenant now."""
    if raw:
        return
    from intelliauth_sms.tenancy import sync_user_tenant

    user = getattr(instance, "user", None)
    if user is not None and user.pk is not None:
        sync_user_tenant(user)


def ensure_default_tenant(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """After ``migrate`` (and after ``flush``) the ``default`` tenant and its policy exist."""
    from intelliauth_sms.models import DEFAULT_TENANT_SLUG, Tenant, TenantPolicy

    if not router.allow_migrate_model(using, Tenant):
        return
    tenant, _created = Tenant.objects.using(using).get_or_create(
        slug=DEFAULT_TENANT_SLUG, defaults={"name": "Default"}
    )
    TenantPolicy.objects.using(using).get_or_create(tenant=tenant)
