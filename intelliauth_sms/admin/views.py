"""The console's own pages: Today and Destinations (per tenant) and the recovery runbook.

Both are read-only and open to tenant admins and support staff of the tenant (and to
superusers); links into the audit trail are shown only to those who may read it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from intelliauth_sms.admin.access import CONSOLE, POLICY, SUPPORT, ConsoleAccess, console_access
from intelliauth_sms.client_ip import client_ip
from intelliauth_sms.models import EventType, Outcome, PrefixBreaker, Tenant
from intelliauth_sms.services import pumping
from intelliauth_sms.services.audit_catalogue import REFUSAL_EVENTS
from intelliauth_sms.services.destinations import chart_svg
from intelliauth_sms.services.destinations import destinations as destinations_report
from intelliauth_sms.services.today import day_start, today_summary

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
    "destination_paused": gettext_lazy("the SMS-pumping breaker paused the prefix"),
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
            trips=list(
                PrefixBreaker.objects.filter(tenant=tenant, paused_until__gt=timezone.now())
            ),
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


def destinations(request: HttpRequest, tenant_id: int) -> HttpResponse:
    """Where the tenant's SMS go and what they cost; the SMS-pumping breaker per prefix.

    Tenant admins and support staff read it; tenant admins (and superusers) clear a trip
    or mark a prefix "monitor only" (POST, audited).
    """
    access = console_access(request)
    if not access.allows(CONSOLE, tenant_id):
        raise Http404
    tenant = Tenant.objects.filter(pk=tenant_id).select_related("policy").first()
    if tenant is None:
        raise Http404
    now = timezone.now()
    report = destinations_report(tenant, now)
    links: dict[str, Any] = {}
    if access.allows(SUPPORT, tenant_id):
        day_ago = (now - timedelta(days=1)).isoformat()
        links = {
            "trips": audit_url(
                access, tenant_id, event_type__exact=EventType.PUMPING_BREAKER_TRIPPED
            ),
            "paused": audit_url(
                access, tenant_id, failure_code="destination_paused", created_at__gte=day_ago
            ),
            "sends": audit_url(
                access, tenant_id, event_type__exact=EventType.SMS_SENT, created_at__gte=day_ago
            ),
        }
    # Each tripped prefix links to its own trips and clearances (their detail names it).
    breakers = [
        (item, audit_url(access, tenant_id, detail__prefix=item.breaker.prefix) if links else "")
        for item in report.breakers
    ]
    return render(
        request,
        "admin/intelliauth_sms/destinations.html",
        _context(
            request,
            _("Destinations of %(tenant)s") % {"tenant": tenant.name},
            tenant=tenant,
            report=report,
            breakers=breakers,
            chart=mark_safe(chart_svg(report.hourly, now)),  # noqa: S308 - numbers only
            links=links,
            labels=FAILURE_LABELS,
            can_act=access.allows(POLICY, tenant_id),
        ),
    )


@require_POST
def breaker_action(
    request: HttpRequest, tenant_id: int, breaker_id: int, action: str
) -> HttpResponse:
    """POST ``clear``, or ``monitor`` with ``monitor_only`` 1 or 0, on one of the tenant's breakers.

    The form names the state it wants rather than toggling, so a form sent twice or from a
    stale page does what it says.
    """
    access = console_access(request)
    if not access.allows(POLICY, tenant_id) or action not in ("clear", "monitor"):
        raise Http404
    breaker = PrefixBreaker.objects.filter(pk=breaker_id, tenant_id=tenant_id).first()
    if breaker is None:
        raise Http404
    ip = client_ip(request)
    prefix = {"prefix": breaker.prefix}
    if action == "clear":
        if pumping.clear(breaker, request.user, ip=ip):
            messages.success(request, _("The breaker for %(prefix)s… is cleared.") % prefix)
        else:
            messages.info(request, _("The breaker for %(prefix)s… was not tripped.") % prefix)
    else:
        wanted = request.POST.get("monitor_only")
        if wanted in ("0", "1"):
            pumping.set_monitor_only(breaker, request.user, wanted == "1", ip=ip)
        else:  # a forged or truncated form: say so on the page, change nothing
            messages.error(request, _("Choose monitor only or enforce again."))
    return HttpResponseRedirect(
        reverse("admin:intelliauth_sms_console_destinations", args=[tenant_id])
    )
