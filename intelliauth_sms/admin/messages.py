"""The messages support staff look at when a user says "the code never came": each SMS with
its number masked, its status (with the provider's delivery report), the provider's message
id and error code. Read-only; rows are scoped by the tenant that sent them, like the audit
trail, since a message is a record of that tenant's send (and spend)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.admin.access import SUPPORT
from intelliauth_sms.admin.filters import TenantFilter
from intelliauth_sms.admin.pagination import CappedChangeList, CappedCountPaginator
from intelliauth_sms.admin.support import UserSearchMixin
from intelliauth_sms.models import MessageStatus, SmsMessage

_NOT_DELIVERED = (MessageStatus.FAILED, MessageStatus.UNDELIVERED, MessageStatus.EXPIRED)


@admin.register(SmsMessage)
class SmsMessageAdmin(UserSearchMixin):
    capability = SUPPORT
    list_display = [
        "created_at",
        "phone",
        "user",
        "purpose",
        "status_badge",
        "provider_message_id",
        "provider_error",
        "sent_at",
    ]
    list_display_links = ["created_at"]
    # "status" is a choices field: its filter lists the choices, it never queries for them.
    list_filter = ["status", TenantFilter]
    list_select_related = ["user", "tenant"]
    list_per_page = 100
    sortable_by = ["created_at"]
    ordering = ["-created_at"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    actions = None
    fields = [
        "created_at",
        "phone",
        "user",
        "tenant",
        "purpose",
        "country",
        "status_badge",
        "sent_at",
        "provider_message_id",
        "provider_error",
        "error",
        "unit_cost",
        "audit_trail",
    ]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[CappedChangeList]:
        return CappedChangeList

    @admin.display(description=_("phone number"))
    def phone(self, obj: SmsMessage) -> str:
        return obj.phone_number_masked

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: SmsMessage) -> str:
        label = MessageStatus(obj.status).label
        if obj.status in _NOT_DELIVERED:
            return format_html('<strong class="iasms-danger">{}</strong>', label)
        return str(label)
