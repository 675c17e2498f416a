"""Query budgets of the sign-in step, pinned (the README states the same numbers).

Counted: the request's own queries, savepoints included (the tests run inside a transaction,
so ``transaction.atomic`` is a savepoint here; in production it is BEGIN/COMMIT, which the
count leaves out). Not counted: the delivery task, which runs in a Celery worker after the
commit. A request that carries a session cookie adds one query to load the session.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from intelliauth_sms.models import AuthFlow
from tests.conftest import last_code
from tests.flows import Browser, complete, initiate, initiate_ok, wrong

#: Measured with CaptureQueriesContext on SQLite and PostgreSQL (the same on both).
#: 26 before issue 11's first pass: the four rows a send locks (the user's state, the
#: address's and the number's lock rows, the prefix's breaker) are now each created if
#: missing and locked in one statement (``services.upsert``), the policy is read once, and
#: the five rolling windows (flow, user, address, number, prefix) are one query, the
#: flow is read once, under its lock, and the country rule comes with the policy.
INITIATE_QUERIES = 14
#: A flow's first initiate also records which factor it sends to.
FIRST_SEND_QUERIES = INITIATE_QUERIES + 1
#: A correct code after a wrong one (one more UPDATE, resetting the count) is the worst case.
COMPLETE_QUERIES = 12
WRONG_CODE_QUERIES = 9
#: Loading the session of a session-bound flow.
SESSION_QUERIES = 1


def _no_commit(capture: Any) -> Any:
    """A ``CommittingClient.capture`` that keeps the delivery task from running."""
    return lambda **kwargs: capture(execute=False)


def test_the_first_send_ever_stays_within_its_query_budget(
    flow: AuthFlow, django_assert_max_num_queries: Any, outbox: list[Any]
) -> None:
    client = APIClient()
    with django_assert_max_num_queries(FIRST_SEND_QUERIES):
        response = initiate(client, flow.id)

    assert response.status_code == 202
    assert outbox == [], "delivery (the Celery task) is not part of the budget"


def test_a_repeated_initiate_stays_within_the_same_budget(
    anon_api: Any, flow: AuthFlow, django_assert_max_num_queries: Any, outbox: list[Any]
) -> None:
    initiate_ok(anon_api, flow.id, outbox)

    with django_assert_max_num_queries(INITIATE_QUERIES):
        assert initiate(APIClient(), flow.id).status_code == 202


def test_complete_stays_within_its_query_budget(
    anon_api: Any, flow: AuthFlow, django_assert_max_num_queries: Any, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    client = APIClient()

    with django_assert_max_num_queries(WRONG_CODE_QUERIES):
        assert complete(client, flow.id, wrong(code)).status_code == 400
    with django_assert_max_num_queries(COMPLETE_QUERIES):
        assert complete(client, flow.id, code).status_code == 200


@pytest.mark.urls("tests.flows.urls")
def test_a_session_bound_flow_adds_only_the_session_load(
    factor: Any,
    outbox: list[Any],
    django_assert_max_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser = Browser(django_capture_on_commit_callbacks)
    flow_id = browser.sign_in()
    committing = browser.client.capture
    browser.client.capture = _no_commit(django_capture_on_commit_callbacks)

    with django_assert_max_num_queries(FIRST_SEND_QUERIES + SESSION_QUERIES):
        assert initiate(browser.client, flow_id, **browser.csrf()).status_code == 202
    with django_assert_max_num_queries(INITIATE_QUERIES + SESSION_QUERIES):
        assert initiate(browser.client, flow_id, **browser.csrf()).status_code == 202

    browser.client.capture = committing
    assert initiate(browser.client, flow_id, **browser.csrf()).status_code == 202
    code = last_code(outbox)
    with django_assert_max_num_queries(WRONG_CODE_QUERIES + SESSION_QUERIES):
        assert complete(browser.client, flow_id, wrong(code), **browser.csrf()).status_code == 400
    with django_assert_max_num_queries(COMPLETE_QUERIES + SESSION_QUERIES):
        assert complete(browser.client, flow_id, code, **browser.csrf()).status_code == 200
