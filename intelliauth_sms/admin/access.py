"""Who may do what in the console: roles come from ``TenantMembership``, not Django permissions.

A staff user's memberships grant exactly this (CONTRACT §2, §6):

* ``admin``: edit their tenant's policy and country rules; see its Today page.
* ``support``: see their tenant's audit events (and export them), factors (masked) and
  lockouts; unlock users; reveal a number with a reason; see the Today page.

Both see the recovery runbook. A superuser can do all of this for every tenant. Anyone else,
staff or not, and whatever Django model permissions they hold, sees nothing of the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from intelliauth_sms.admin.changelist import ConsoleChangeList
from intelliauth_sms.admin.filters import TenantFilter
from intelliauth_sms.models import Tenant, TenantMembership

Role = TenantMembership.Role

# What each capability needs; a capability is what one part of the console asks for.
POLICY = "policy"
SUPPORT = "support"
CONSOLE = "console"
CAPABILITY_ROLES: Mapping[str, frozenset[str]] = {
    POLICY: frozenset({Role.ADMIN}),
    SUPPORT: frozenset({Role.SUPPORT}),
    CONSOLE: frozenset({Role.ADMIN, Role.SUPPORT}),
}


@dataclass(frozen=True)
class ConsoleAccess:
    """The console rights of one user: all tenants (superuser) or a role per tenant id."""

    is_superuser: bool = False
    roles: Mapping[int, str] = field(default_factory=dict)

    def tenant_ids(self, capability: str) -> frozenset[int] | None:
        """The tenants where ``capability`` is granted; ``None`` means every tenant."""
        if self.is_superuser:
            return None
        wanted = CAPABILITY_ROLES[capability]
        return frozenset(tenant for tenant, role in self.roles.items() if role in wanted)

    def allows(self, capability: str, tenant_id: int | None = None) -> bool:
        """Whether ``capability`` is granted somewhere, or for ``tenant_id`` when given."""
        ids = self.tenant_ids(capability)
        if ids is None:
            return True
        return bool(ids) if tenant_id is None else tenant_id in ids

    def tenants(self, capability: str) -> QuerySet[Tenant]:
        """The tenants where ``capability`` is granted, by name."""
        ids = self.tenant_ids(capability)
        return Tenant.objects.all() if ids is None else Tenant.objects.filter(pk__in=ids)


_CACHE_ATTRIBUTE = "_intelliauth_sms_console_access"


def console_access(request: HttpRequest) -> ConsoleAccess:
    """The console rights of ``request.user``, read once per request."""
    user: Any = getattr(request, "user", None)
    cached = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is not None and cached[0] == getattr(user, "pk", None):
        return cached[1]
    if user is None or not (user.is_active and user.is_staff):
        access = ConsoleAccess()
    elif user.is_superuser:
        access = ConsoleAccess(is_superuser=True)
    else:
        roles = TenantMembership.objects.filter(
            user=user, role__in=[Role.ADMIN, Role.SUPPORT]
        ).values_list("tenant_id", "role")
        access = ConsoleAccess(roles=dict(roles))
    setattr(request, _CACHE_ATTRIBUTE, (getattr(user, "pk", None), access))
    return access


class TenantScopedAdmin(admin.ModelAdmin):
    """A model admin whose rows are those of the tenants where the user holds ``capability``.

    Read-only unless a subclass grants more. Django model permissions play no part: the
    membership is the permission, so granting ``view_auditevent`` to a staff user without
    a membership shows them nothing.
    """

    capability: ClassVar[str] = SUPPORT
    # Path from the model to its tenant id, for the queryset filter.
    tenant_path: ClassVar[str] = "tenant"

    def access(self, request: HttpRequest) -> ConsoleAccess:
        return console_access(request)

    def scope(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """``queryset`` narrowed to the tenants the user may see here."""
        ids = self.access(request).tenant_ids(self.capability)
        return queryset if ids is None else self.narrow_to_tenants(queryset, ids)

    def narrow_to_tenants(
        self, queryset: QuerySet[Any], tenant_ids: Iterable[int]
    ) -> QuerySet[Any]:
        """``queryset`` narrowed to rows of ``tenant_ids`` (the scope and the tenant filter)."""
        return queryset.filter(**{f"{self.tenant_path}__in": list(tenant_ids)})

    def tenant_id_of(self, obj: Model) -> int | None:
        return getattr(obj, f"{self.tenant_path}_id", None)

    def in_scope(self, request: HttpRequest, obj: Model) -> bool:
        ids = self.access(request).tenant_ids(self.capability)
        return ids is None or self.tenant_id_of(obj) in ids

    def shows_tenant(self, request: HttpRequest) -> bool:
        """Whether the user works across tenants, so lists need a tenant column."""
        ids = self.access(request).tenant_ids(self.capability)
        return ids is None or len(ids) > 1

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scope(request, super().get_queryset(request))

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        # Malformed filter or search parameters answer a page, never a server error.
        return ConsoleChangeList

    def get_list_filter(self, request: HttpRequest) -> Any:
        # With one tenant there is nothing to pick. Leaving the filter out (rather than
        # showing it empty) also means a hand-made ``?tenant=<other>`` is applied as a
        # plain lookup on top of the scope, and so finds nothing.
        filters = list(super().get_list_filter(request))
        if self.shows_tenant(request):
            return filters
        return [f for f in filters if not (isinstance(f, type) and issubclass(f, TenantFilter))]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.access(request).allows(self.capability)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_module_permission(request):
            return False
        return obj is None or self.in_scope(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Read-only: every field (computed ones like the masked number included) is text.
        return list(self.fields or ())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
