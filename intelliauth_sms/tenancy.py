"""Which tenant a user belongs to."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Min, Q
from django.utils.module_loading import import_string

from intelliauth_sms.conf import app_settings
from intelliauth_sms.models import DEFAULT_TENANT_SLUG, Tenant


def default_tenant() -> Tenant:
    """The ``default`` tenant (created by ``migrate``; recreated here if it was deleted)."""
    tenant, _created = Tenant.objects.get_or_create(
        slug=DEFAULT_TENANT_SLUG, defaults={"name": "Default"}
    )
    return tenant


def resolve_tenant_by_membership(user: Any) -> Tenant:
    """The default resolver: the user's earliest membership, else the ``default`` tenant.

    One query: the user's tenants and the default one, the earliest membership first (the
    default tenant, if the user is not a member of it, has none and comes last).
    """
    earliest = Min("memberships__id", filter=Q(memberships__user=user))
    tenant = (
        Tenant.objects.filter(Q(memberships__user=user) | Q(slug=DEFAULT_TENANT_SLUG))
        .annotate(earliest_membership=earliest)
        .order_by(F("earliest_membership").asc(nulls_last=True), "id")
        .first()
    )
    return tenant if tenant is not None else default_tenant()


def sync_user_tenant(user: Any, tenant: Tenant | None = None) -> Tenant:
    """Bring the tenant columns of the user's SMS rows in step with ``TENANT_RESOLVER``.

    The console shows a user's factors, enrolments and lockout state to the support staff
    of the tenant in those columns, so they must follow the user's *current* tenant. The
    app calls this when a membership changes and whenever it locks the user's state (every
    send and check). A site whose own resolver moves users some other way calls it after
    the move. Returns the tenant. Only rows that differ are written.
    """
    from intelliauth_sms.models import PendingEnrolment, SmsFactor, SmsUserState

    current = tenant if tenant is not None else tenant_for(user)
    for model in (SmsFactor, PendingEnrolment, SmsUserState):
        model.objects.filter(user=user).exclude(tenant=current).update(tenant=current)
    return current


def tenant_for(user: Any) -> Tenant:
    """The tenant whose policy applies to ``user``, via ``INTELLIAUTH_SMS["TENANT_RESOLVER"]``."""
    resolver = import_string(app_settings.TENANT_RESOLVER)
    tenant = resolver(user)
    if not isinstance(tenant, Tenant):
        raise TypeError("TENANT_RESOLVER must return an intelliauth_sms Tenant.")
    return tenant
