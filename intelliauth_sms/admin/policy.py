"""Tenants, with their policy and country rules inline: what a tenant admin edits.

Every change to the policy, a country rule, the tenant or a membership is recorded as a
``policy_changed`` audit event per field, with the actor and the old and new values.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.admin import views
from intelliauth_sms.admin.access import POLICY, TenantScopedAdmin, console_access
from intelliauth_sms.admin.changelist import ConsoleChangeList
from intelliauth_sms.admin.forms import CountryRuleForm, CountryRuleFormSet, TenantPolicyForm
from intelliauth_sms.client_ip import client_ip
from intelliauth_sms.models import (
    CountryRule,
    SecurityQuestion,
    Tenant,
    TenantMembership,
    TenantPolicy,
)
from intelliauth_sms.services.policy_changes import (
    FieldChange,
    form_changes,
    formset_changes,
    initial_value,
    record_policy_changes,
)


def _manages(request: HttpRequest, tenant: Any) -> bool:
    """Whether the user edits ``tenant``'s policy (a tenant admin of it, or a superuser).

    Without a tenant (Django asks so before it loads an inline's rows, which it then
    narrows to the parent tenant, itself already scoped): whether they edit any policy.
    """
    access = console_access(request)
    return access.allows(POLICY) if tenant is None else access.allows(POLICY, tenant.pk)


class ConsoleInline(admin.options.InlineModelAdmin):
    """Inline rights from the console role, not Django's model permissions: whoever edits
    the tenant's policy edits its rows (``_allowed`` says who)."""

    def _allowed(self, request: HttpRequest, obj: Any) -> bool:
        return _manages(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)


class TenantPolicyInline(ConsoleInline, admin.StackedInline):
    model = TenantPolicy
    form = TenantPolicyForm
    can_delete = False
    min_num = 1
    max_num = 1
    verbose_name = _("policy")
    verbose_name_plural = _("policy")
    fieldsets = [
        (
            _("Send limits"),
            {
                "fields": [
                    "enrolment_sms_per_hour",
                    "auth_sms_per_hour",
                    "user_auth_sms_per_hour",
                    "ip_sms_per_hour",
                    "destination_sms_per_hour",
                ],
                "description": _(
                    "SMS costs money and can be abused. The defaults are permissive; tighten "
                    "them once you're live. A change applies to the next request."
                ),
            },
        ),
        (
            _("Failed-code lockout"),
            {"fields": ["max_failed_attempts", "lockout_minutes", "disable_after_failures"]},
        ),
        (_("Codes"), {"fields": ["code_ttl_seconds"]}),
        (_("Cost and SMS pumping"), {"fields": ["daily_high_cost_cap", "pumping_protection"]}),
        (
            _("Account recovery"),
            {"fields": ["allow_sms_recovery", "recovery_requires_security_answers"]},
        ),
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The policy is created with its tenant; a tenant without one gets it here.
        return self._allowed(request, obj) and not TenantPolicy.objects.filter(tenant=obj).exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CountryRuleInline(ConsoleInline, admin.TabularInline):
    model = CountryRule
    form = CountryRuleForm
    formset = CountryRuleFormSet
    extra = 0
    verbose_name_plural = _("country rules")
    ordering = ["country"]


class SecurityQuestionInline(ConsoleInline, admin.TabularInline):
    """The tenant's own security questions, offered for recovery after the site's list.

    Answers are never shown anywhere; a question is retired by unticking "offered" (users
    who answered it keep their answer, which recovery still checks).
    """

    model = SecurityQuestion
    extra = 0
    fields = ["text", "is_active"]
    verbose_name_plural = _("security questions (in addition to the site's)")


class TenantMembershipInline(ConsoleInline, admin.TabularInline):
    """Who holds a console role: superusers only (granting a role is granting access).

    Ordinary members (role ``member``, possibly thousands) are left to the memberships list.
    """

    model = TenantMembership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name = _("console staff member")
    verbose_name_plural = _("console staff (tenant admins and support)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TenantMembership]:
        return (
            super()
            .get_queryset(request)
            .filter(role__in=[TenantMembership.Role.ADMIN, TenantMembership.Role.SUPPORT])
            .select_related("user")
        )

    def _allowed(self, request: HttpRequest, obj: Any) -> bool:
        return console_access(request).is_superuser


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    """A tenant admin's own tenant(s); superusers manage every tenant and its members."""

    capability = POLICY
    tenant_path = "pk"
    list_display = ["name", "slug", "today_link"]
    search_fields = ["name", "slug"]
    fields = ["name", "slug"]
    inlines = [
        TenantPolicyInline,
        CountryRuleInline,
        SecurityQuestionInline,
        TenantMembershipInline,
    ]

    def tenant_id_of(self, obj: Model) -> int | None:
        return obj.pk

    @admin.display(description=_("today"))
    def today_link(self, obj: Tenant) -> str:
        url = reverse("admin:intelliauth_sms_console_today_tenant", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Today"))

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        if obj is None:
            # A new tenant gets its policy, with the defaults, when it is saved.
            return [CountryRuleInline, SecurityQuestionInline, TenantMembershipInline]
        return list(self.inlines)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if self.access(request).is_superuser:
            return []
        return ["name", "slug"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.access(request).is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.access(request).is_superuser

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # A tenant admin of one tenant has one thing to edit: open it.
        ids = self.access(request).tenant_ids(POLICY)
        if ids is not None and len(ids) == 1 and not request.GET:
            (only,) = ids
            return HttpResponseRedirect(reverse("admin:intelliauth_sms_tenant_change", args=[only]))
        return super().changelist_view(request, extra_context)

    # -- recording every change ------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Tenant, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            self._record(request, obj, form_changes(form, "tenant", obj.slug))

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: Any, change: bool
    ) -> None:
        tenant = form.instance
        if formset.model is TenantPolicy:
            changes = formset_changes(formset, "tenant_policy")
        elif formset.model is CountryRule:
            changes = formset_changes(formset, "country_rule", key_field="country")
        elif formset.model is TenantMembership:
            changes = formset_changes(formset, "membership", key_field="user")
        elif formset.model is SecurityQuestion:
            changes = formset_changes(formset, "security_question", key_field="text")
        else:  # pragma: no cover - every inline is one of the above
            changes = []
        super().save_formset(request, form, formset, change)
        self._record(request, tenant, changes)

    def _record(self, request: HttpRequest, tenant: Tenant, changes: list[FieldChange]) -> None:
        if changes:
            record_policy_changes(request.user, tenant, changes, ip=client_ip(request))

    # -- the console pages ---------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        console = [
            path("today/", wrap(views.today_index), name="intelliauth_sms_console_today"),
            path(
                "<int:tenant_id>/today/",
                wrap(views.today),
                name="intelliauth_sms_console_today_tenant",
            ),
            path("runbook/", wrap(views.runbook), name="intelliauth_sms_console_runbook"),
            path(
                "<int:tenant_id>/destinations/",
                wrap(views.destinations),
                name="intelliauth_sms_console_destinations",
            ),
            path(
                "<int:tenant_id>/destinations/<int:breaker_id>/<str:action>/",
                wrap(views.breaker_action),
                name="intelliauth_sms_console_breaker_action",
            ),
        ]
        return console + super().get_urls()


@admin.register(TenantMembership)
class TenantMembershipAdmin(admin.ModelAdmin):
    """Every membership, ordinary members included: superusers only. Changes are audited
    like the console staff inline's."""

    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__username", "user__email", "tenant__slug"]
    raw_id_fields = ["user"]
    fields = ["user", "tenant", "role"]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ConsoleChangeList

    def _allowed(self, request: HttpRequest) -> bool:
        return console_access(request).is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def save_model(
        self, request: HttpRequest, obj: TenantMembership, form: ModelForm, change: bool
    ) -> None:
        changes = form_changes(form, "membership", str(obj.user), ignore=frozenset({"id"}))
        before = initial_value(form, "tenant") if change else None
        super().save_model(request, obj, form, change)
        # A move between tenants shows in the trail of both.
        tenants = {obj.tenant} | ({before} if isinstance(before, Tenant) else set())
        for tenant in sorted(tenants, key=lambda t: t.pk):
            record_policy_changes(request.user, tenant, changes, ip=client_ip(request))

    def _record_deleted(self, request: HttpRequest, obj: TenantMembership) -> None:
        row = {"user": str(obj.user), "role": obj.role}
        change = FieldChange("membership", "row", row, None, str(obj.user))
        record_policy_changes(request.user, obj.tenant, [change], ip=client_ip(request))

    def delete_model(self, request: HttpRequest, obj: TenantMembership) -> None:
        self._record_deleted(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset.select_related("user", "tenant"):
            self._record_deleted(request, obj)
        super().delete_queryset(request, queryset)
