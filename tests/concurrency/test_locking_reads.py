"""``reads.read_one(lock=True)`` on PostgreSQL: it locks the flow row and nothing it joins
(user, tenant, factor), with ``FOR UPDATE OF`` and, as on MariaDB which lacks it, with the
row locked by a statement of its own before an unlocked joined read."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from intelliauth_sms.models import AuthFlow, SendLock
from intelliauth_sms.services import housekeeping
from intelliauth_sms.services.flows import start_flow
from intelliauth_sms.services.locks import lock_keys
from intelliauth_sms.services.reads import read_one
from tests.factories import SmsFactorFactory, UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RELATED = ("user", "tenant", "factor")


@contextmanager
def held_elsewhere(action: Any) -> Iterator[None]:
    """Run ``action`` in a transaction of another connection and keep it open meanwhile."""
    held, release, errors = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            with transaction.atomic():
                action()
                held.set()
                release.wait(30)
        except BaseException as exc:  # noqa: BLE001 - reported in the test's thread
            errors.append(exc)
            held.set()
        finally:
            connection.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(30) and not errors, errors
    try:
        yield
    finally:
        release.set()
        thread.join(30)


def locked(sql: str, params: list[Any]) -> bool:
    """Whether this connection finds the row ``sql`` selects locked (it waits 0.3 s)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '300ms'")
            cursor.execute(f"{sql} FOR UPDATE", params)
    except OperationalError:
        return True
    return False


@pytest.mark.parametrize("for_update_of", [True, False], ids=["FOR UPDATE OF", "lock first"])
def test_a_locking_read_locks_the_flow_and_none_of_the_rows_it_joins(
    for_update_of: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On the class: the read runs in another thread, on that thread's own connection.
    monkeypatch.setattr(type(connection.features), "has_select_for_update_of", for_update_of)
    user = UserFactory()
    flow = start_flow(user)
    flow.factor = SmsFactorFactory(user=user)
    flow.save()

    statements: list[str] = []

    def read_locked() -> None:
        with CaptureQueriesContext(connection) as captured:
            found = read_one(AuthFlow, {"id": flow.pk}, related=RELATED, lock=True)
        statements.extend(q["sql"] for q in captured.captured_queries)
        assert found is not None and found.factor_id == flow.factor_id

    with held_elsewhere(read_locked):
        assert locked("SELECT 1 FROM intelliauth_sms_authflow WHERE id = %s", [flow.pk])
        assert not locked("SELECT 1 FROM auth_user WHERE id = %s", [user.pk])
        assert not locked("SELECT 1 FROM intelliauth_sms_tenant WHERE id = %s", [flow.tenant_id])
        assert not locked("SELECT 1 FROM intelliauth_sms_smsfactor WHERE id = %s", [flow.factor_id])
    # The lock on its own statement first where FOR UPDATE OF is missing; one read otherwise.
    assert len(statements) == (1 if for_update_of else 2)


def test_without_skip_locked_the_clean_up_stops_at_a_held_lock_row_without_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # MariaDB 10.5: NOWAIT but no SKIP LOCKED.
    monkeypatch.setattr(connection.features, "has_select_for_update_skip_locked", False)
    monkeypatch.setattr(housekeeping, "LOCK_BATCH", 2)
    SendLock.objects.bulk_create([SendLock(key=f"ip:{i}") for i in range(5)])

    with held_elsewhere(lambda: lock_keys("ip:3")):
        deleted = housekeeping._delete_idle_locks()  # would block here if it waited

    assert deleted == 2  # the first batch; the second met ip:3 and ended this run
    assert sorted(SendLock.objects.values_list("key", flat=True)) == ["ip:2", "ip:3", "ip:4"]
