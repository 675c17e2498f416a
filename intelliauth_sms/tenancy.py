"""Which tenant a user belongs to."""

from __future__ import annotations

import functools
from typing import Any

from django.utils.module_loading import import_string

from intelliauth_sms.conf import app_settings
from intelliauth_sms.models import DEFAULT_TENANT_SLUG, Tenant, TenantMembership
from intelliauth_sms.services import reads, sql


def default_tenant() -> Tenant:
    """The ``default`` tenant (created by ``migrate``; recreated here if it was deleted)."""
    tenant, _created = Tenant.objects.get_or_create(
        slug=DEFAULT_TENANT_SLUG, defaults={"name": "Default"}
    )
    return tenant


@functools.cache
def _membership_sql(vendor: str) -> str:
    """The tenant of the user's earliest membership, else the default tenant (per vendor:
    quoting differs)."""
    membership = sql.quote(TenantMembership._meta.db_table)
    first = (
        f"SELECT MIN({sql.column(TenantMembership, 'id', 'f')}) FROM {membership} f "  # noqa: S608
        f"WHERE {sql.column(TenantMembership, 'user', 'f')} = %s"
    )
    return (
        f"SELECT {reads.columns(Tenant)} FROM {sql.quote(Tenant._meta.db_table)} "  # noqa: S608
        f"WHERE {sql.column(Tenant, 'id')} = COALESCE("
        f"(SELECT {sql.column(TenantMembership, 'tenant', 'm')} FROM {membership} m "
        f"WHERE {sql.column(TenantMembership, 'id', 'm')} = ({first})), "
        f"(SELECT {sql.column(Tenant, 'id', 'd')} FROM {sql.quote(Tenant._meta.db_table)} d "
        f"WHERE {sql.column(Tenant, 'slug', 'd')} = %s))"
    )


def resolve_tenant_by_membership(user: Any) -> Tenant:
    """The default resolver: the user's earliest membership, else the ``default`` tenant.

    One query, in plain SQL (``services.sql``): it runs on every request of the API, and
    compiling it as an ORM query cost several times running it.
    """
    if user.pk is None:
        raise ValueError("Only a saved user has a tenant.")
    db = sql.database()
    member = sql.field(TenantMembership, "user").get_db_prep_value(user.pk, db)
    with db.cursor() as cursor:
        cursor.execute(_membership_sql(db.vendor), [member, DEFAULT_TENANT_SLUG])
        row = cursor.fetchone()
    return default_tenant() if row is None else reads.instance(Tenant, row)


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
