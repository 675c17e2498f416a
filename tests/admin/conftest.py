"""Two tenants, each with a tenant admin, support staff, users, factors, lockouts and audit
events; a staff user without a membership; a superuser. Every row of tenant B carries "bee"
in what the admin shows (usernames), so a page that leaks B is easy to spot
(``shows_tenant_b``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from intelliauth_sms.models import (
    AuditEvent,
    EventType,
    Outcome,
    SmsFactor,
    SmsUserState,
    Tenant,
    TenantMembership,
)
from intelliauth_sms.services import audit
from tests.factories import MembershipFactory, SmsFactorFactory, TenantFactory, UserFactory

Role = TenantMembership.Role
ADMIN = "/admin/intelliauth_sms"

A_PHONE = "+14155550100"
B_PHONE = "+447400123456"


@dataclass
class Side:
    """One tenant's people and rows."""

    tenant: Tenant
    admin: Any
    support: Any
    member: Any
    factor: SmsFactor
    state: SmsUserState
    events: list[AuditEvent]


def _side(slug: str, name: str, people: str, phone: str) -> Side:
    tenant = TenantFactory(slug=slug, name=name)
    admin = UserFactory(username=f"{people}-admin", is_staff=True)
    support = UserFactory(username=f"{people}-support", is_staff=True)
    member = UserFactory(username=f"{people}-member", email=f"{people}.member@example.com")
    MembershipFactory(user=admin, tenant=tenant, role=Role.ADMIN)
    MembershipFactory(user=support, tenant=tenant, role=Role.SUPPORT)
    MembershipFactory(user=member, tenant=tenant, role=Role.MEMBER)
    factor = SmsFactorFactory(user=member, tenant=tenant, phone=phone)
    state = SmsUserState.objects.create(
        user=member,
        failed_attempts=5,
        consecutive_failures=5,
        locked_until=timezone.now() + timedelta(minutes=15),
    )
    events = [
        audit.record(
            EventType.SMS_SENT, user=member, tenant=tenant, phone_last4=phone[-4:], ip="192.0.2.1"
        ),
        audit.record(
            EventType.SMS_REFUSED,
            user=member,
            tenant=tenant,
            outcome=Outcome.FAILURE,
            failure_code="country_not_allowed",
            phone_last4=phone[-4:],
        ),
        audit.record(
            EventType.LOCKOUT_STARTED,
            user=member,
            tenant=tenant,
            outcome=Outcome.FAILURE,
            failure_code="locked",
        ),
        audit.record(
            EventType.RECOVERY_REQUESTED,
            user=member,
            tenant=tenant,
            phone_last4=phone[-4:],
        ),
    ]
    return Side(tenant, admin, support, member, factor, state, events)


@pytest.fixture
def side_a(db: Any) -> Side:
    return _side("acme", "Acme", "ay", A_PHONE)


@pytest.fixture
def side_b(db: Any) -> Side:
    return _side("bee-corp", "Bee Corp", "bee", B_PHONE)


@pytest.fixture
def loner(db: Any) -> Any:
    """A staff user with no membership."""
    return UserFactory(username="loner", is_staff=True)


@pytest.fixture
def superuser(db: Any) -> Any:
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def login() -> Callable[[Any], Client]:
    """A browser-like client signed in as the given user."""

    def build(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return build


#: What tenant B's rows put on a page: its people's usernames and email, its name and slug,
#: its messages' provider ids. Not "bee" alone: a random UUID on any page can contain it.
_TENANT_B = re.compile(r"bee-(?:admin|support|member|corp)|bee\.member@|Bee Corp|SM-bee")


def shows_tenant_b(page: str) -> bool:
    """Whether ``page`` shows anything of tenant B's rows."""
    return _TENANT_B.search(page) is not None


def body(response: Any) -> str:
    return response.content.decode()


def management_data(response: Any) -> dict[str, Any]:
    """Every field of a change form and its inlines as the page shows them: the POST a
    browser would send back unchanged."""
    data: dict[str, Any] = {}

    def put(form: Any) -> None:
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if value is None:
                data[key] = ""
            elif isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif hasattr(value, "pk"):
                data[key] = value.pk
            else:
                data[key] = value

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        put(formset.management_form)
        for form in formset.forms:
            put(form)
    return data
