"""The console's pages run a fixed number of queries whatever the number of rows, and the
audit changelist never counts or scans the whole table (the 1 000 000-row numbers are in
benchmarks/admin_changelist.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intelliauth_sms.admin.audit import AuditEventAdmin
from intelliauth_sms.admin.pagination import CappedCountPaginator
from intelliauth_sms.models import EventType, Outcome, SmsUserState, TenantMembership
from intelliauth_sms.services import audit
from tests.admin.conftest import ADMIN, body
from tests.factories import MembershipFactory, SmsFactorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd(side_a: Any, side_b: Any) -> list[Any]:
    """Thirty more users in tenant A, each with a factor, a lockout and events."""
    users = []
    for n in range(30):
        user = UserFactory(username=f"ay-user-{n}")
        MembershipFactory(user=user, tenant=side_a.tenant, role=TenantMembership.Role.MEMBER)
        SmsFactorFactory(user=user, tenant=side_a.tenant, phone=f"+1415555{n:04d}")
        SmsUserState.objects.create(user=user, consecutive_failures=n)
        audit.record(EventType.SMS_SENT, user=user, tenant=side_a.tenant, phone_last4=f"{n:04d}")
        audit.record(
            EventType.CODE_CHECKED,
            user=user,
            tenant=side_a.tenant,
            outcome=Outcome.FAILURE,
            failure_code="invalid_code",
        )
        audit.record(
            EventType.NUMBER_REVEALED,
            user=user,
            actor=side_a.support,
            tenant=side_a.tenant,
            detail={"reason": f"ticket {n}"},
        )
        users.append(user)
    return users


PAGES = [
    f"{ADMIN}/auditevent/",
    f"{ADMIN}/auditevent/?event_type__exact=sms_sent",
    f"{ADMIN}/auditevent/?recovery=yes",
    f"{ADMIN}/auditevent/?failure_code=invalid_code",
    f"{ADMIN}/auditevent/?q=ay-user-1",
    f"{ADMIN}/smsfactor/",
    f"{ADMIN}/smsfactor/?q=ay-user",
    f"{ADMIN}/smsuserstate/",
    f"{ADMIN}/smsuserstate/?status=failures",
]


@pytest.mark.parametrize("url", PAGES)
def test_support_changelists_run_a_bounded_number_of_queries(
    url: str, crowd: Any, side_a: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    client = login(side_a.support)
    client.get(url)  # warm the session
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "url", [f"{ADMIN}/auditevent/", f"{ADMIN}/smsfactor/", f"{ADMIN}/smsuserstate/"]
)
def test_superuser_changelists_run_a_bounded_number_of_queries(
    url: str, crowd: Any, superuser: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    client = login(superuser)
    client.get(url)
    with django_assert_max_num_queries(11):
        assert client.get(url).status_code == 200


def test_console_pages_run_a_bounded_number_of_queries(
    crowd: Any, side_a: Any, login: Any, superuser: Any, django_assert_max_num_queries: Any
) -> None:
    support, admin = login(side_a.support), login(side_a.admin)
    pages = [
        (support, f"{ADMIN}/tenant/{side_a.tenant.pk}/today/", 16),
        (support, f"{ADMIN}/tenant/runbook/", 8),
        (support, f"{ADMIN}/", 6),
        # One query per inline: policy, country rules, security questions (+ staff).
        (admin, f"{ADMIN}/tenant/{side_a.tenant.pk}/change/", 13),
    ]
    pages.append((login(superuser), f"{ADMIN}/tenant/{side_a.tenant.pk}/change/", 15))
    for client, url, limit in pages:
        client.get(url)
        with django_assert_max_num_queries(limit):
            assert client.get(url).status_code == 200, url


def test_the_audit_changelist_neither_counts_nor_scans_the_whole_table(
    crowd: Any, side_a: Any, login: Any
) -> None:
    client = login(side_a.support)
    client.get(f"{ADMIN}/auditevent/")
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{ADMIN}/auditevent/")
    audit_sql = [q["sql"] for q in queries if "intelliauth_sms_auditevent" in q["sql"]]
    assert audit_sql
    for sql in audit_sql:
        assert "DISTINCT" not in sql.upper(), sql
        if "COUNT(" in sql.upper():
            assert "LIMIT" in sql.upper(), sql


def test_past_the_count_limit_the_list_pages_the_newest_rows_and_says_more_than(
    crowd: Any, side_a: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CappedCountPaginator, "count_limit", 10)
    monkeypatch.setattr(AuditEventAdmin, "list_per_page", 4)
    client = login(side_a.support)

    first = client.get(f"{ADMIN}/auditevent/")
    assert first.context["cl"].paginator.capped
    paginator = first.context["cl"].paginator
    if connection.vendor == "postgresql":  # the planner's estimate of the total
        assert (
            paginator.total_estimate
            and f"About {paginator.total_estimate} audit events" in body(first)
        )
    else:
        assert paginator.total_estimate is None and "More than 10 audit events" in body(first)
    assert "The newest 10 are paged here" in body(first)
    assert first.context["cl"].paginator.num_pages == 3
    last = client.get(f"{ADMIN}/auditevent/", {"p": 3})
    assert len(last.context["cl"].result_list) == 2
    assert client.get(f"{ADMIN}/auditevent/", {"p": 4}).status_code == 302  # ?e=1

    small = client.get(f"{ADMIN}/auditevent/", {"recovery": "yes"})
    assert not small.context["cl"].paginator.capped
    assert "1 audit event" in body(small)


def test_the_date_drill_down_offers_the_days_between_the_oldest_and_newest_row(
    side_a: Any, login: Any
) -> None:
    when = side_a.events[0].created_at
    page = login(side_a.support).get(f"{ADMIN}/auditevent/")
    hierarchy = body(page).split('class="toplinks"')[1].split("</nav>")[0]
    assert f"created_at__day={when.day}" in hierarchy
    assert "All dates" not in hierarchy or "created_at__year" in hierarchy
