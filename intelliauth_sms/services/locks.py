"""Row locks that make the limits exact across processes.

Every send and every code check for a user first locks that user's ``SmsUserState`` row,
so two requests for one user are judged one after the other. Limits that span users (the
per-IP and per-destination counts) lock a ``SendLock`` row named after what they count;
the pumping breaker locks its ``PrefixBreaker`` row; the daily cost cap locks the tenant's
``DailySpend`` row of the day (``services.spend``). Locks are always taken in the order
subject (enrolment, flow, recovery) → user → IP → destination → prefix breaker → daily
spend, so two requests cannot deadlock.

On SQLite ``select_for_update`` is a no-op and writes are serialised by the database lock;
the race tests run on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from intelliauth_sms.crypto import keyed_hash
from intelliauth_sms.models import SendLock, SmsUserState, Tenant
from intelliauth_sms.services.upsert import returning_supported, upsert_locked, upsert_many_locked


def lock_user_state(user: Any, tenant: Tenant) -> SmsUserState:
    """Create (if needed) and lock the user's failed-code state row.

    ``tenant`` is the user's tenant now: if the row says otherwise the user has moved, and
    their SMS rows follow (``sync_user_tenant``) so the console shows them to the right staff.
    """
    if returning_supported():
        fresh = {"user": user.pk, "tenant": tenant.pk, "failed_attempts": 0}
        state = upsert_locked(SmsUserState, {**fresh, "consecutive_failures": 0}, conflict=["user"])
    else:
        SmsUserState.objects.bulk_create(
            [SmsUserState(user=user, tenant=tenant)], ignore_conflicts=True
        )
        state = SmsUserState.objects.select_for_update().get(user=user)
    if state.tenant_id != tenant.pk:
        from intelliauth_sms.tenancy import sync_user_tenant

        sync_user_tenant(user, tenant)
        state.tenant = tenant
    return state


def lock_keys(*keys: str) -> None:
    """Create (if needed) and lock the ``SendLock`` rows named ``keys``, in that order.

    One statement for all of them where the database runs ``upsert_locked``. Elsewhere two
    steps a row (insert if missing, then lock), where housekeeping may delete the row in
    between; then it tries again.
    """
    unique = list(dict.fromkeys(keys))
    if returning_supported():
        upsert_many_locked(SendLock, [{"key": key} for key in unique], conflict=["key"])
        return
    for key in unique:
        _lock_in_two_steps(key)


def _lock_in_two_steps(key: str) -> None:
    for _attempt in range(3):
        SendLock.objects.bulk_create([SendLock(key=key)], ignore_conflicts=True)
        if list(SendLock.objects.select_for_update().filter(key=key).values_list("pk")):
            return
    raise RuntimeError(f"Could not lock {key!r}.")


def ip_lock_key(ip: str) -> str:
    """The lock name for an IP: a keyed hash, so the lock table keeps no address."""
    return "ip:" + keyed_hash("ip-lock", ip)[:40]


def destination_lock_key(destination_hash: str) -> str:
    """The lock name for a destination number: already a keyed hash, shortened."""
    return "dest:" + destination_hash[:40]
