"""What support staff work with: factors (masked, with the audited reveal) and lockouts (with
the audited unlock). Both actions ask for a reason and call the support services."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from intelliauth_sms.admin.access import SUPPORT, TenantScopedAdmin
from intelliauth_sms.admin.filters import LockStatusFilter, TenantFilter
from intelliauth_sms.admin.forms import ReasonForm
from intelliauth_sms.admin.views import audit_url
from intelliauth_sms.client_ip import client_ip
from intelliauth_sms.models import AuditEvent, EventType, SmsFactor, SmsUserState
from intelliauth_sms.services.support import reveal_for_support, unlock_user
from intelliauth_sms.services.user_search import user_ids_matching
from intelliauth_sms.tenancy import tenant_for


class UserSearchMixin(TenantScopedAdmin):
    """Search by the user a row is about: username or email, exact (any case), or a
    username prefix. Users are looked up first, so the rows are found through the
    indexed user columns, never by a ``LIKE`` over a join."""

    search_user_fields: ClassVar[tuple[str, ...]] = ("user",)
    # Add a tenant column for users who work across tenants.
    tenant_column: ClassVar[bool] = True
    search_fields = ["user__username"]
    search_help_text = _("Username or email address.")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if not search_term.strip():
            return queryset, False
        ids = user_ids_matching(search_term)
        match = Q()
        for name in self.search_user_fields:
            match |= Q(**{f"{name}_id__in": ids})
        return queryset.filter(match), False

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = list(super().get_list_display(request))
        if self.tenant_column and self.shows_tenant(request) and "tenant" not in columns:
            columns.append("tenant")
        return columns

    @admin.display(description=_("audit trail"))
    def audit_trail(self, obj: Any) -> str:
        url = audit_url(None, user=obj.user_id)
        return format_html('<a href="{}">{}</a>', url, _("Audit events of this user"))


class ReasonActionAdmin(UserSearchMixin):
    """An admin with one audited action on a row (``reason_action``: reveal, unlock) that
    first asks for a reason: a button on the row's page opens ``<id>/<action>/``."""

    reason_action: ClassVar[str]
    reason_action_label: ClassVar[Any]
    change_form_template = "admin/intelliauth_sms/change_form_with_action.html"

    def has_reason_action_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_view_permission(request, obj)

    def in_scope(self, request: HttpRequest, obj: Any) -> bool:
        """The row's tenant column, and ``TENANT_RESOLVER`` for its user now: a user moved
        by a site's own resolver is never opened, revealed or unlocked by the staff of the
        tenant they left, even before their rows' columns are brought in step."""
        if not super().in_scope(request, obj):
            return False
        ids = self.access(request).tenant_ids(self.capability)
        return ids is None or tenant_for(obj.user).pk in ids

    def reason_action_url(self, object_id: Any) -> str:
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_{self.reason_action}"
        return reverse(name, args=[object_id])

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        action = path(
            f"<path:object_id>/{self.reason_action}/",
            self.admin_site.admin_view(self.reason_view),
            name=f"{opts.app_label}_{opts.model_name}_{self.reason_action}",
        )
        return [action, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = {
            "action_url": self.reason_action_url(object_id),
            "action_label": self.reason_action_label,
            "action_id": f"iasms-{self.reason_action}",
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def page(self, request: HttpRequest, template: str, **context: Any) -> TemplateResponse:
        """A console page in the admin's frame."""
        full = {**self.admin_site.each_context(request), "opts": self.opts, **context}
        return TemplateResponse(request, template, full)

    def reason_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask why; on a valid POST, act."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_reason_action_permission(request, obj):
            # Another tenant's row answers like a row that does not exist.
            raise Http404
        form = ReasonForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            return self.act(request, obj, form.cleaned_data["reason"])
        return self.ask(request, obj, form)

    def ask(self, request: HttpRequest, obj: Any, form: ReasonForm) -> HttpResponse:
        raise NotImplementedError

    def act(self, request: HttpRequest, obj: Any, reason: str) -> HttpResponse:
        raise NotImplementedError


@admin.register(SmsFactor)
class SmsFactorAdmin(ReasonActionAdmin):
    """Enrolled phones, masked. The full number only through the reveal, with a reason."""

    capability = SUPPORT
    reason_action = "reveal"
    reason_action_label = _("Reveal number…")
    list_display = ["phone", "user", "purpose", "created_at", "last_used_at"]
    list_filter = ["purpose", TenantFilter]
    list_select_related = ["user", "tenant"]
    fields = ["phone", "user", "tenant", "purpose", "created_at", "last_used_at", "audit_trail"]
    actions = ["reveal_number"]

    @admin.display(description=_("phone number"))
    def phone(self, obj: SmsFactor) -> str:
        return obj.phone_number_masked

    def has_reveal_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_reason_action_permission(request, obj)

    @admin.action(
        description=_("Reveal the number of the selected factor…"), permissions=["reveal"]
    )
    def reveal_number(self, request: HttpRequest, queryset: QuerySet[SmsFactor]) -> Any:
        factors = list(queryset[:2])
        if len(factors) != 1:
            self.message_user(
                request, _("Select exactly one factor to reveal its number."), messages.WARNING
            )
            return None
        return HttpResponseRedirect(self.reason_action_url(factors[0].pk))

    def ask(self, request: HttpRequest, obj: Any, form: ReasonForm) -> HttpResponse:
        return self._reveal_page(request, obj, form=form)

    def act(self, request: HttpRequest, obj: Any, reason: str) -> HttpResponse:
        number = reveal_for_support(request.user, obj, reason=reason, ip=client_ip(request))
        event = (
            AuditEvent.objects.filter(
                event_type=EventType.NUMBER_REVEALED, actor_id=request.user.pk, subject_id=obj.pk
            )
            .order_by("-created_at", "-id")
            .first()
        )
        return self._reveal_page(request, obj, number=number, event=event)

    def _reveal_page(self, request: HttpRequest, factor: SmsFactor, **context: Any) -> HttpResponse:
        response = self.page(
            request,
            "admin/intelliauth_sms/smsfactor/reveal.html",
            title=_("Reveal a phone number"),
            original=factor,
            **context,
        )
        # The page may hold a full number: no cache may keep it.
        add_never_cache_headers(response)
        return response


@admin.register(SmsUserState)
class SmsUserStateAdmin(ReasonActionAdmin):
    """Lockouts: who is locked out or disabled, and the audited unlock."""

    capability = SUPPORT
    reason_action = "unlock"
    reason_action_label = _("Unlock…")
    list_display = [
        "user",
        "status",
        "failed_attempts",
        "consecutive_failures",
        "locked_until",
        "disabled_at",
    ]
    list_filter = [LockStatusFilter, TenantFilter]
    list_select_related = ["user", "tenant"]
    ordering = [F("disabled_at").desc(nulls_last=True), F("locked_until").desc(nulls_last=True)]
    fields = [
        "user",
        "status",
        "failed_attempts",
        "consecutive_failures",
        "locked_until",
        "disabled_at",
        "audit_trail",
    ]
    actions = ["unlock_users"]

    @admin.display(description=_("status"))
    def status(self, obj: SmsUserState) -> str:
        if obj.disabled_at is not None:
            return format_html(
                '<strong class="iasms-danger">{}</strong>', _("SMS disabled until unlocked")
            )
        if obj.locked_until is not None and obj.locked_until > timezone.now():
            return format_html('<strong class="iasms-warning">{}</strong>', _("Locked out"))
        if obj.consecutive_failures:
            return str(_("Recent wrong codes"))
        return str(_("OK"))

    def has_unlock_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_reason_action_permission(request, obj)

    def _unlock(self, request: HttpRequest, states: list[SmsUserState], reason: str) -> int:
        ip = client_ip(request)
        return sum(bool(unlock_user(request.user, s.user, reason=reason, ip=ip)) for s in states)

    @admin.action(description=_("Unlock the selected users…"), permissions=["unlock"])
    def unlock_users(self, request: HttpRequest, queryset: QuerySet[SmsUserState]) -> Any:
        states = [s for s in queryset.select_related("user") if self.in_scope(request, s)]
        confirmed = request.POST.get("confirm") == "yes"
        form = ReasonForm(request.POST if confirmed else None)
        if confirmed and form.is_valid():
            cleared = self._unlock(request, states, form.cleaned_data["reason"])
            self.message_user(
                request,
                ngettext(
                    "Unlocked %(count)d user (%(cleared)d had a lockout or failures to clear).",
                    "Unlocked %(count)d users (%(cleared)d had a lockout or failures to clear).",
                    len(states),
                )
                % {"count": len(states), "cleared": cleared},
                messages.SUCCESS,
            )
            return None
        return self.page(
            request,
            "admin/intelliauth_sms/smsuserstate/unlock.html",
            title=_("Unlock users"),
            states=states,
            form=form,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
            select_across=request.POST.get("select_across", "0"),
        )

    def ask(self, request: HttpRequest, obj: Any, form: ReasonForm) -> HttpResponse:
        return self.page(
            request,
            "admin/intelliauth_sms/smsuserstate/unlock.html",
            title=_("Unlock %(user)s") % {"user": obj.user},
            original=obj,
            states=[obj],
            form=form,
            single=True,
        )

    def act(self, request: HttpRequest, obj: Any, reason: str) -> HttpResponse:
        self._unlock(request, [obj], reason)
        self.message_user(
            request, _("%(user)s is unlocked.") % {"user": obj.user}, messages.SUCCESS
        )
        return HttpResponseRedirect(
            reverse("admin:intelliauth_sms_smsuserstate_change", args=[obj.pk])
        )
