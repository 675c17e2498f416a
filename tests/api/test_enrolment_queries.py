"""Query budgets of enrolment, pinned like the sign-in step's (tests/flows/test_flow_queries.py).

Counted: the request's own statements, and apart from them its transaction statements
(``tests.query_budget``). Not counted: what runs after the commit (the delivery task, 2
queries, and the notice email), which a worker runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from intelliauth_sms.models import SmsFactor
from tests.conftest import last_code
from tests.query_budget import query_budget

pytestmark = pytest.mark.django_db

#: The access check (has the user a factor?), the tenant, the duplicate-number check, the
#: pending enrolment, the user's state, the policy with its rule for the country, the
#: address and number lock rows (one statement), the prefix's breaker, the rolling
#: windows, the code, the message, the audit event.
ENROLMENT_QUERIES = 12
#: The access check, the tenant, the enrolment (read once, locked), the user's state, the
#: policy, the code (read, then used), the factor, clearing the enrolment's number, the
#: check's and the enrolment's audit events (one statement).
ENROLMENT_COMPLETE_QUERIES = 10
URL = "/api/mfa/sms/enrolments/"


def _without_commit(api: Any) -> None:
    """Keep the on-commit work (delivery, notices) out of what is counted."""
    capture = api.capture
    api.capture = lambda **kwargs: capture(execute=False)


def test_enrolment_stays_within_its_query_budget(api: Any) -> None:
    _without_commit(api)
    with query_budget(ENROLMENT_QUERIES, transaction=2):
        response = api.post(URL, {"phone_number": "+14155550100"}, format="json")
    assert response.status_code == 201, response.content


def test_enrolment_complete_stays_within_its_query_budget(
    api: Any, user: Any, outbox: list[Any]
) -> None:
    started = api.post(URL, {"phone_number": "+14155550100"}, format="json")
    code = last_code(outbox)
    _without_commit(api)

    # Two more transaction statements: the factor's insert has a savepoint of its own.
    with query_budget(ENROLMENT_COMPLETE_QUERIES, transaction=4):
        done = api.post(f"{URL}{started.json()['id']}/complete/", {"code": code}, format="json")

    assert done.status_code == 201, done.content
    assert SmsFactor.objects.filter(user=user).count() == 1
