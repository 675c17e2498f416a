"""A minimal Django admin: tenants with their policy and country rules, masked factors,
read-only audit events. Phone numbers are never shown in full here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from intelliauth_sms.models import (
    AuditEvent,
    CountryRule,
    SmsFactor,
    Tenant,
    TenantMembership,
    TenantPolicy,
)


class TenantPolicyInline(admin.StackedInline):
    model = TenantPolicy
    can_delete = False


class CountryRuleInline(admin.TabularInline):
    model = CountryRule
    extra = 0


class TenantMembershipInline(admin.TabularInline):
    model = TenantMembership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [TenantPolicyInline, CountryRuleInline, TenantMembershipInline]


@admin.register(SmsFactor)
class SmsFactorAdmin(admin.ModelAdmin):
    list_display = ["phone_number_masked", "user", "tenant", "purpose", "created_at"]
    list_filter = ["purpose", "tenant"]
    fields = ["user", "tenant", "purpose", "phone_number_masked", "created_at", "last_used_at"]
    readonly_fields = [
        "user",
        "tenant",
        "purpose",
        "phone_number_masked",
        "created_at",
        "last_used_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event_type",
        "outcome",
        "failure_code",
        "is_recovery",
        "user",
        "tenant",
        "phone_last4",
        "ip_address",
    ]
    list_filter = ["event_type", "outcome", "failure_code", "is_recovery"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "tenant"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
