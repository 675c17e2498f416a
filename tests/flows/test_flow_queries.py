"""Query budgets of the sign-in step, pinned (the README states the same numbers).

Counted as issue 11 states its budgets: the request's statements, and apart from them its
transaction statements (``transaction.atomic`` is a savepoint here, since each test runs in
a transaction, and BEGIN/COMMIT in production; ``tests.query_budget``). Not counted: the
delivery task, which runs in a Celery worker after the commit (2 queries, pinned by
``tests/core/test_delivery_retries.py``). A request that carries a session cookie adds one
query to load the session.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from intelliauth_sms.models import AuthFlow
from tests.conftest import last_code
from tests.flows import Browser, complete, initiate, initiate_ok, wrong
from tests.query_budget import query_budget

#: Measured on SQLite and PostgreSQL (the same on both). 24 before issue 11 (plus 2
#: savepoint statements): the rows a send locks (the user's state, the address's and the
#: number's lock rows, the prefix's breaker) are created if missing and locked by upserts,
#: the two lock rows in one statement (``services.upsert``); the policy is read once, with
#: the destination's country rule; the five rolling windows (flow, user, address, number,
#: prefix) are one query; the flow is read once, under its lock. What is left: the flow,
#: its factor, the user's state, the policy, the lock rows, the breaker, the windows,
#: replacing the flow's previous code, the code, the message, the audit event.
INITIATE_QUERIES = 11
#: A flow's first initiate also records which factor it sends to.
FIRST_SEND_QUERIES = INITIATE_QUERIES + 1
#: The flow, the user's state, the policy, the latest code, using it, marking the flow
#: verified, the factor's last use, and the two audit events in one INSERT
#: (``audit.written_together``).
COMPLETE_QUERIES = 8
#: After a wrong code, a correct one also resets the user's count of wrong codes.
COMPLETE_AFTER_WRONG_QUERIES = COMPLETE_QUERIES + 1
WRONG_CODE_QUERIES = 7
#: Loading the session of a session-bound flow.
SESSION_QUERIES = 1


def _no_commit(capture: Any) -> Any:
    """A ``CommittingClient.capture`` that keeps the delivery task from running."""
    return lambda **kwargs: capture(execute=False)


def test_the_first_send_ever_stays_within_its_query_budget(
    flow: AuthFlow, outbox: list[Any]
) -> None:
    client = APIClient()
    with query_budget(FIRST_SEND_QUERIES, transaction=2):
        response = initiate(client, flow.id)

    assert response.status_code == 202
    assert outbox == [], "delivery (the Celery task) is not part of the budget"


def test_a_repeated_initiate_stays_within_the_same_budget(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    initiate_ok(anon_api, flow.id, outbox)

    with query_budget(INITIATE_QUERIES, transaction=2):
        assert initiate(APIClient(), flow.id).status_code == 202


def test_complete_stays_within_its_query_budget(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)

    with query_budget(COMPLETE_QUERIES, transaction=2):
        assert complete(APIClient(), flow.id, code).status_code == 200


def test_a_wrong_code_then_the_right_one_stay_within_their_budgets(
    anon_api: Any, flow: AuthFlow, outbox: list[Any]
) -> None:
    code = initiate_ok(anon_api, flow.id, outbox)
    client = APIClient()

    with query_budget(WRONG_CODE_QUERIES, transaction=2):
        assert complete(client, flow.id, wrong(code)).status_code == 400
    with query_budget(COMPLETE_AFTER_WRONG_QUERIES, transaction=2):
        assert complete(client, flow.id, code).status_code == 200


@pytest.mark.urls("tests.flows.urls")
def test_a_session_bound_flow_adds_only_the_session_load(
    factor: Any,
    outbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser = Browser(django_capture_on_commit_callbacks)
    flow_id = browser.sign_in()
    committing = browser.client.capture
    browser.client.capture = _no_commit(django_capture_on_commit_callbacks)

    with query_budget(FIRST_SEND_QUERIES + SESSION_QUERIES, transaction=2):
        assert initiate(browser.client, flow_id, **browser.csrf()).status_code == 202
    with query_budget(INITIATE_QUERIES + SESSION_QUERIES, transaction=2):
        assert initiate(browser.client, flow_id, **browser.csrf()).status_code == 202

    browser.client.capture = committing
    assert initiate(browser.client, flow_id, **browser.csrf()).status_code == 202
    code = last_code(outbox)
    with query_budget(WRONG_CODE_QUERIES + SESSION_QUERIES, transaction=2):
        assert complete(browser.client, flow_id, wrong(code), **browser.csrf()).status_code == 400
    with query_budget(COMPLETE_AFTER_WRONG_QUERIES + SESSION_QUERIES, transaction=2):
        assert complete(browser.client, flow_id, code, **browser.csrf()).status_code == 200
