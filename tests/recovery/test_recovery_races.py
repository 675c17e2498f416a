"""Recovery under concurrency, on PostgreSQL with real row locks (services tier)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from intelliauth_sms import signals
from intelliauth_sms.models import AuditEvent, AuthFlow, SmsFactor, TenantPolicy
from tests.concurrency.conftest import run_concurrently as race
from tests.conftest import last_code
from tests.recovery import error_of, finish, start

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 10


@pytest.fixture(autouse=True)
def _on_postgresql(db: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.fail("The recovery races need PostgreSQL (make test-services).", pytrace=False)


def test_concurrent_correct_codes_recover_exactly_once(
    policy: TenantPolicy, backup: SmsFactor, outbox: list[Any]
) -> None:
    browser = APIClient()
    recovery_id = start(browser).json()["id"]  # bound to this browser's session
    code = last_code(outbox)

    def same_browser() -> APIClient:
        client = APIClient()
        client.cookies = browser.cookies
        return client

    completed: list[Any] = []

    def on_completed(sender: Any, **kwargs: Any) -> None:
        completed.append(kwargs["recovery"].pk)

    signals.recovery_completed.connect(on_completed)
    try:
        answers = race(
            THREADS,
            lambda i: (lambda r: (r.status_code, r.json().get("status") or error_of(r)["code"]))(
                finish(same_browser(), recovery_id, code)
            ),
        )
    finally:
        signals.recovery_completed.disconnect(on_completed)

    assert Counter(answers) == {(200, "recovered"): 1, (400, "code_expired"): THREADS - 1}
    assert completed == [AuthFlow.objects.get(pk=recovery_id).pk]
    assert AuditEvent.objects.filter(event_type="recovery_completed").count() == 1
    assert [m.subject for m in mail.outbox].count("Your account was recovered") == 1
