"""List filters of the console. None of them runs a query over the audit table to build its
choices: on a million events a ``SELECT DISTINCT`` per page load is what makes a changelist
slow. The tenant filter lists only the tenants the user may see."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.models import Outcome
from intelliauth_sms.services.audit_catalogue import FAILURE_CODES


class TenantFilter(admin.SimpleListFilter):
    """Pick one of the tenants the user works for (offered only to users with several)."""

    title = _("tenant")
    parameter_name = "tenant"

    def __init__(self, request: HttpRequest, params: Any, model: Any, model_admin: Any) -> None:
        self.model_admin = model_admin
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        tenants = model_admin.access(request).tenants(model_admin.capability)
        return [(str(t.pk), t.name) for t in tenants.only("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        # The changelist's queryset is already scoped to the user's tenants; this narrows.
        return self.model_admin.narrow_to_tenants(queryset, [int(value)])


class RecoveryFilter(admin.SimpleListFilter):
    """The preset support staff reach for: recovery events only."""

    title = _("recovery")
    parameter_name = "recovery"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Recovery events only")), ("no", _("Other events"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(is_recovery=True)
        if self.value() == "no":
            return queryset.filter(is_recovery=False)
        return queryset


class FailureCodeFilter(admin.SimpleListFilter):
    """The contract's error codes, from a fixed list (no ``SELECT DISTINCT``)."""

    title = _("failure code")
    parameter_name = "failure_code"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, code) for code in FAILURE_CODES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        # A failure code always comes with a failed outcome; saying so lets the database
        # use the partial index over failures.
        return queryset.filter(outcome=Outcome.FAILURE, failure_code=value)


class LockStatusFilter(admin.SimpleListFilter):
    """Users locked out now, disabled until support unlocks them, or with recent failures."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("locked", _("Locked now (any reason)")),
            ("disabled", _("SMS disabled until unlocked")),
            ("failures", _("Wrong codes since last success")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        value = self.value()
        if value == "locked":
            return queryset.filter(Q(locked_until__gt=now) | Q(disabled_at__isnull=False))
        if value == "disabled":
            return queryset.filter(disabled_at__isnull=False)
        if value == "failures":
            return queryset.filter(consecutive_failures__gt=0)
        return queryset
