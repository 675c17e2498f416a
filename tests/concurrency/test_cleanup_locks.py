"""The daily clean-up deletes idle ``SendLock`` rows without waiting for a row a send holds
(PostgreSQL): it must never wait on, and so never deadlock with, a send's locks."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from intelliauth_sms.models import SendLock
from intelliauth_sms.services import housekeeping
from intelliauth_sms.services.locks import lock_keys

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_clean_up_skips_a_lock_row_a_send_holds_and_deletes_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    SendLock.objects.bulk_create([SendLock(key=f"ip:{i}") for i in range(5)])
    monkeypatch.setattr(housekeeping, "LOCK_BATCH", 2)  # several batches
    held, release = threading.Event(), threading.Event()

    def send_holding_its_lock() -> None:
        try:
            with transaction.atomic():
                lock_keys("ip:3")
                held.set()
                release.wait(30)
        finally:
            connection.close()

    sender = threading.Thread(target=send_holding_its_lock, daemon=True)
    sender.start()
    assert held.wait(30)
    try:
        deleted = housekeeping._delete_idle_locks()  # would block here if it waited
        remaining = list(SendLock.objects.values_list("key", flat=True))
    finally:
        release.set()
        sender.join(30)

    assert deleted == 4 and remaining == ["ip:3"]
    assert housekeeping._delete_idle_locks() == 1  # free now: the next clean-up takes it
