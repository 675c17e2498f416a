"""The console's own pages: Today (per tenant) and the MFA recovery runbook.

Both are read-only and open to tenant admins and support staff of the tenant (and to
superusers); links into the audit trail are shown only to those who may read it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intelliauth_sms.admin.access import CONSOLE, SUPPORT, ConsoleAccess, console_access
from intelliauth_sms.models import EventType, Outcome, Tenant
from intelliauth_sms.services.console import REFUSAL_EVENTS, day_start, today_summary

# What each refusal or failed check means, for the Today page.
FAILURE_LABELS = {
    "rate_limited": gettext_lazy("a send limit was hit (per user, per flow or per IP)"),
    "country_not_allowed": gettext_lazy("the country rules refused the destination"),
    "cost_cap_reached": gettext_lazy("the daily high-cost cap was spent"),
    "locked": gettext_lazy("the user was locked out"),
    "invalid_phone_number": gettext_lazy("not a valid mobile number"),
    "already_enrolled": gettext_lazy("the number was already enrolled"),
    "invalid_request": gettext_lazy("a malformed request"),
    "invalid_code": gettext_lazy("a wrong code"),
    "code_expired": gettext_lazy("an expired, used or replaced code"),
    "recovery_not_allowed": gettext_lazy("recovery is not allowed"),
    "invalid_credentials": gettext_lazy("wrong recovery credentials"),
}


def audit_url(access: ConsoleAccess | None, tenant_id: int | None = None, **params: Any) -> str:
    """The audit events list filtered by ``params``, and to ``tenant_id`` for users who see
    several tenants (``access`` says who sees what)."""
    query = dict(params)
    if access is not None and tenant_id is not None:
        ids = access.tenant_ids(SUPPORT)
        if ids is None or len(ids) > 1:
            query["tenant"] = tenant_id
    url = reverse("admin:intelliauth_sms_auditevent_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


def today_index(request: HttpRequest) -> HttpResponse:
    """Today: straight to the user's tenant, or a choice when they work for several."""
    access = console_access(request)
    if not access.allows(CONSOLE):
        raise PermissionDenied
    tenants = list(access.tenants(CONSOLE).only("pk", "name", "slug"))
    if len(tenants) == 1:
        return HttpResponseRedirect(
            reverse("admin:intelliauth_sms_console_today_tenant", args=[tenants[0].pk])
        )
    return render(
        request,
        "admin/intelliauth_sms/today_index.html",
        _context(request, _("Today"), tenants=tenants),
    )


def today(request: HttpRequest, tenant_id: int) -> HttpResponse:
    """One tenant's day at a glance: is it time to tighten a limit?"""
    access = console_access(request)
    if not access.allows(CONSOLE, tenant_id):
        # Another tenant's page answers like a tenant that does not exist.
        raise Http404
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        raise Http404
    summary = today_summary(tenant)
    since = summary.since.isoformat()
    links: dict[str, Any] = {}
    if access.allows(SUPPORT, tenant_id):

        def link(**params: Any) -> str:
            return audit_url(access, tenant_id, created_at__gte=since, **params)

        refusal_types = ",".join(REFUSAL_EVENTS)
        links = {
            "sends": link(event_type__exact=EventType.SMS_SENT),
            "refusals": {
                code: link(event_type__in=refusal_types, failure_code=code)
                for code, _n in summary.refusals
            },
            "failed_checks": {
                code: link(event_type__exact=EventType.CODE_CHECKED, failure_code=code)
                for code, _n in summary.failed_checks
            },
            "lockouts": link(event_type__exact=EventType.LOCKOUT_STARTED),
            "disabled": link(event_type__exact=EventType.SMS_DISABLED),
            "unlocks": link(event_type__exact=EventType.USER_UNLOCKED),
            "recovery": link(recovery="yes"),
            "recovery_failures": link(recovery="yes", outcome__exact=Outcome.FAILURE),
            "policy_changes": audit_url(
                access, tenant_id, event_type__exact=EventType.POLICY_CHANGED
            ),
            "locked_users": reverse("admin:intelliauth_sms_smsuserstate_changelist")
            + "?status=locked",
        }
    return render(
        request,
        "admin/intelliauth_sms/today.html",
        _context(
            request,
            _("Today in %(tenant)s") % {"tenant": tenant.name},
            tenant=tenant,
            summary=summary,
            links=links,
            labels=FAILURE_LABELS,
            can_edit_policy=access.allows("policy", tenant_id),
        ),
    )


def runbook(request: HttpRequest) -> HttpResponse:
    """The MFA recovery runbook: how support staff review an SMS account recovery."""
    access = console_access(request)
    if not access.allows(CONSOLE):
        raise PermissionDenied
    tenants = list(access.tenants(CONSOLE).select_related("policy"))
    links: dict[str, str] = {}
    if access.allows(SUPPORT):
        day_ago = (timezone.now() - timedelta(days=1)).isoformat()
        week_ago = day_start(timezone.now() - timedelta(days=7)).isoformat()
        links = {
            "recovery": audit_url(access, recovery="yes"),
            "recovery_day": audit_url(access, recovery="yes", created_at__gte=day_ago),
            "recovery_failures": audit_url(access, recovery="yes", outcome__exact=Outcome.FAILURE),
            "requested": audit_url(access, event_type__exact=EventType.RECOVERY_REQUESTED),
            "completed": audit_url(access, event_type__exact=EventType.RECOVERY_COMPLETED),
            "reveals": audit_url(
                access, event_type__exact=EventType.NUMBER_REVEALED, created_at__gte=week_ago
            ),
            "enrolled": audit_url(access, event_type__exact=EventType.FACTOR_ENROLLED),
            "removed": audit_url(access, event_type__exact=EventType.FACTOR_REMOVED),
            "unlocks": audit_url(access, event_type__exact=EventType.USER_UNLOCKED),
            "recovery_policy": audit_url(
                access,
                event_type__exact=EventType.POLICY_CHANGED,
                detail__field="allow_sms_recovery",
            ),
        }
    return render(
        request,
        "admin/intelliauth_sms/runbook.html",
        _context(request, _("MFA recovery runbook"), tenants=tenants, links=links),
    )
