"""The audit trail: read-only for everybody, superusers included, and fast on a million rows.

What keeps the changelist fast (see ``benchmarks/admin_changelist.py`` for the numbers):

* no ``COUNT(*)`` over the table per page load (``show_full_result_count = False`` and
  ``CappedCountPaginator``), no facet counts;
* filters whose choices are fixed lists (no ``SELECT DISTINCT`` per filter) and a date
  drill-down built from one ``MIN``/``MAX`` (``fast_date_hierarchy``);
* an index per filter, each led by the tenant the user is scoped to (``AuditEvent.Meta``);
* search resolves users first and then uses the indexed user/actor columns;
* sorting only by time, the order every index has.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.admin.access import SUPPORT
from intelliauth_sms.admin.filters import FailureCodeFilter, RecoveryFilter, TenantFilter
from intelliauth_sms.admin.pagination import CappedChangeList, CappedCountPaginator
from intelliauth_sms.admin.support import UserSearchMixin
from intelliauth_sms.models import AuditEvent, EventType, Outcome
from intelliauth_sms.phone import mask_last4
from intelliauth_sms.services.audit_export import audit_csv_header, audit_csv_row, describe_detail


@lru_cache(maxsize=32)
def _labels(language: str | None) -> dict[str, str]:
    """Event type and outcome labels in one language. ``get_FOO_display()`` rebuilds a
    dict of lazy (re-translated) choices on every call: per row of a 100-row page that
    was a sizeable share of the page's time."""
    return {str(v): str(label) for v, label in [*EventType.choices, *Outcome.choices]}


class _Echo:
    """A write-only file for ``csv.writer`` that hands each line back."""

    def write(self, value: str) -> str:
        return value


@admin.register(AuditEvent)
class AuditEventAdmin(UserSearchMixin):
    capability = SUPPORT
    search_user_fields = ("user", "actor")
    search_help_text = _("Username or email address of the user, or of the staff member who acted.")

    list_display = [
        "created_at",
        "event",
        "outcome_badge",
        "failure_code",
        "user",
        "actor",
        "phone",
        "ip_address",
        "summary",
    ]
    list_display_links = ["created_at"]
    list_filter = [RecoveryFilter, "event_type", "outcome", FailureCodeFilter, TenantFilter]
    date_hierarchy = "created_at"
    list_select_related = ["user", "actor", "tenant"]
    list_per_page = 100
    sortable_by = ["created_at"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    actions = None

    fields = [
        "created_at",
        "event",
        "outcome_badge",
        "failure_code",
        "purpose",
        "user",
        "actor",
        "tenant",
        "ip_address",
        "phone",
        "subject_id",
        "summary",
    ]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[CappedChangeList]:
        return CappedChangeList

    # Read-only for everybody, superusers included: ``TenantScopedAdmin`` grants no add,
    # change or delete, and ``actions = None`` leaves no bulk delete either.

    # -- columns -------------------------------------------------------------------------

    @admin.display(description=_("event"))
    def event(self, obj: AuditEvent) -> str:
        label = _labels(get_language()).get(obj.event_type, obj.event_type)
        if obj.is_recovery:
            return format_html(
                '<span class="iasms-badge iasms-recovery" title="{}">{}</span> {}',
                _("Recovery event: review it with the MFA recovery runbook"),
                _("Recovery"),
                label,
            )
        return str(label)

    @admin.display(description=_("outcome"))
    def outcome_badge(self, obj: AuditEvent) -> str:
        css = "iasms-failure" if obj.outcome == Outcome.FAILURE else "iasms-success"
        label = _labels(get_language()).get(obj.outcome, obj.outcome)
        return format_html('<span class="{}">{}</span>', css, label)

    @admin.display(description=_("phone number"))
    def phone(self, obj: AuditEvent) -> str:
        return mask_last4(obj.phone_last4) if obj.phone_last4 else "—"

    @admin.display(description=_("detail"))
    def summary(self, obj: AuditEvent) -> str:
        return describe_detail(obj)

    # -- the CSV export ------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name="intelliauth_sms_auditevent_export",
        )
        return [export, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        query = request.GET.urlencode()
        export = reverse("admin:intelliauth_sms_auditevent_export")
        extra = {
            "export_url": f"{export}?{query}" if query else export,
            "recovery_url": "?recovery=yes",
            "today_url": reverse("admin:intelliauth_sms_console_today"),
            "runbook_url": reverse("admin:intelliauth_sms_console_runbook"),
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        """The filtered list (same filters, search and dates as the page) as CSV, with the
        last 4 digits of a number at most."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:intelliauth_sms_auditevent_changelist"))
        events = changelist.get_queryset(request).select_related("user", "actor", "tenant")
        writer = csv.writer(_Echo())

        def rows() -> Iterator[str]:
            yield writer.writerow(audit_csv_header())
            for event in events.iterator(chunk_size=2000):
                yield writer.writerow(audit_csv_row(event))

        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.csv"'
        return response
