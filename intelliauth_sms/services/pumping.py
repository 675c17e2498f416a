"""The SMS-pumping breaker (CONTRACT §2), one of the checks of the send-policy gate.

Toll fraud sends codes to number ranges whose revenue the attacker shares; those codes are
never typed back. So sends are grouped per tenant by destination prefix (the first 7
digits of the E.164 number), and when a prefix has had at least ``TRIP_SENDS`` sends in
the rolling hour of which fewer than ``TRIP_CONVERSION`` were verified, the breaker trips:

* ``enforce``: every further send to the prefix for the tenant is refused with
  ``destination_paused`` for ``PAUSE`` (until an admin clears it early);
* ``monitor`` (the tenant's policy, or the prefix marked "monitor only"): the sends go
  out and the trip is recorded;
* ``off``: nothing is counted.

Each trip and clearance is an audit event and fires a signal. The prefix's sends are
counted by the gate with its other windows (an indexed range scan over one prefix's last
hour, ``SmsMessage`` by tenant, prefix, time), the verified ones only once a trip is in
reach, so the cost does not grow with the table. The prefix's ``PrefixBreaker`` row is
locked for the decision, so concurrent sends trip it once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from intelliauth_sms import signals
from intelliauth_sms.crypto import keyed_hash
from intelliauth_sms.exceptions import DestinationPaused
from intelliauth_sms.models import (
    CodeState,
    EventType,
    Outcome,
    PrefixBreaker,
    PumpingProtection,
    SmsMessage,
    Tenant,
    TenantPolicy,
)
from intelliauth_sms.services import audit
from intelliauth_sms.services.upsert import returning_supported, upsert_locked

PREFIX_DIGITS = 7
TRIP_SENDS = 30
TRIP_CONVERSION = 0.2
PAUSE = timedelta(minutes=60)
WINDOW = timedelta(hours=1)


def prefix_of(e164: str) -> str:
    """The first 7 digits of an E.164 number (``+4474001…`` → ``4474001``)."""
    return e164.lstrip("+")[:PREFIX_DIGITS]


def prefix_hash(e164: str) -> str:
    """The keyed hash messages and breakers are grouped by (never the digits)."""
    return keyed_hash("prefix", prefix_of(e164))[:40]


def lock_breaker(tenant: Tenant, e164: str) -> PrefixBreaker:
    """Create (if this is the prefix's first send) and lock the breaker of the number's
    prefix for the tenant: it is locked for the decision, so concurrent sends trip it once."""
    hashed = prefix_hash(e164)
    if returning_supported():
        return upsert_locked(
            PrefixBreaker,
            {"tenant": tenant.pk, "prefix_hash": hashed, "prefix": "", "monitor_only": False},
            conflict=["tenant", "prefix_hash"],
        )
    PrefixBreaker.objects.bulk_create(
        [PrefixBreaker(tenant=tenant, prefix_hash=hashed)], ignore_conflicts=True
    )
    return PrefixBreaker.objects.select_for_update().get(tenant=tenant, prefix_hash=hashed)


def counting_since(breaker: PrefixBreaker, now: datetime) -> datetime:
    """Where the breaker's rolling hour starts: an admin's clearance restarts the count."""
    return max(now - WINDOW, breaker.counted_from or now - WINDOW)


def prefix_sends(breaker: PrefixBreaker, now: datetime) -> dict[str, Any]:
    """The sends the breaker counts, as ``SmsMessage`` lookups (the gate counts them with
    its other windows, ``gate_reads.Window``)."""
    return {
        "tenant_id": breaker.tenant_id,
        "prefix_hash": breaker.prefix_hash,
        "created_at__gt": counting_since(breaker, now),
    }


def check_breaker(
    tenant: Tenant,
    policy: TenantPolicy,
    breaker: PrefixBreaker,
    e164: str,
    now: datetime,
    sends: int,
) -> Callable[[], bool] | None:
    """Raise ``DestinationPaused`` if the tenant's breaker for the number's prefix is open.

    ``breaker`` is locked (``lock_breaker``) and ``sends`` counts ``prefix_sends``. Trips it
    when the prefix's last hour says pumping. Runs inside the gate's transaction; a trip
    decided by a refused send is recorded after that transaction rolls back (the error's
    ``on_refused``), so it is never lost with the refused send. In monitor mode the send may
    go on, so the trip is returned for the gate to record: within the send if the send goes
    out, after the rollback if a later check refuses it.
    """
    enforce = policy.pumping_protection == PumpingProtection.ENFORCE and not breaker.monitor_only
    if breaker.paused_until is not None and breaker.paused_until > now:
        if enforce:
            raise DestinationPaused()
        return None  # monitor: the trip was recorded when it happened
    if sends < TRIP_SENDS:
        return None
    verified = SmsMessage.objects.filter(
        **prefix_sends(breaker, now), code__state=CodeState.USED
    ).count()
    if verified >= TRIP_CONVERSION * sends:
        return None
    stats = {"sends": sends, "verified": verified}
    prefix = prefix_of(e164)
    mode = "enforce" if enforce else "monitor"
    hashed = breaker.prefix_hash

    def record_trip() -> bool:
        return trip(tenant, hashed, prefix, now, stats, mode)

    if enforce:
        raise DestinationPaused(on_refused=record_trip)
    return record_trip


def trip(
    tenant: Tenant, hashed: str, prefix: str, now: datetime, stats: dict[str, int], mode: str
) -> bool:
    """Open the breaker for ``PAUSE``, once: ``False`` if another send tripped it already."""
    with transaction.atomic():
        opened = (
            PrefixBreaker.objects.filter(tenant=tenant, prefix_hash=hashed)
            .exclude(paused_until__gt=now)
            .update(tripped_at=now, paused_until=now + PAUSE, cleared_at=None, prefix=prefix)
        )
        if not opened:
            return False
        audit.record(
            EventType.PUMPING_BREAKER_TRIPPED,
            outcome=Outcome.FAILURE,
            failure_code=DestinationPaused.code,
            tenant=tenant,
            detail={"prefix": prefix, "mode": mode, **stats},
        )
        transaction.on_commit(
            lambda: signals.pumping_breaker_tripped.send(
                sender=__name__, tenant=tenant, prefix=prefix, mode=mode, **stats
            )
        )
    return True


def clear(breaker: PrefixBreaker, actor: Any, *, ip: str | None = None) -> bool:
    """An admin closes a tripped breaker early; sends before now no longer count toward a trip.

    ``False`` (and nothing recorded) if it is not tripped any more: its pause ran out, or
    another admin cleared it first (two open consoles, a form sent twice).
    """
    now = timezone.now()
    with transaction.atomic():
        cleared = PrefixBreaker.objects.filter(pk=breaker.pk, paused_until__gt=now).update(
            paused_until=None, cleared_at=now, cleared_by=actor, counted_from=now
        )
        if not cleared:
            return False
        audit.record(
            EventType.PUMPING_BREAKER_CLEARED,
            tenant=breaker.tenant,
            actor=actor,
            ip=ip,
            detail={"prefix": breaker.prefix},
        )
        transaction.on_commit(
            lambda: signals.pumping_breaker_cleared.send(
                sender=__name__, tenant=breaker.tenant, prefix=breaker.prefix, actor=actor
            )
        )
    return True


def set_monitor_only(
    breaker: PrefixBreaker, actor: Any, value: bool, *, ip: str | None = None
) -> None:
    """Mark a prefix "monitor only" (trips recorded, never paused), or undo it; audited.

    Setting what is already set changes and records nothing.
    """
    if breaker.monitor_only == value:
        return
    with transaction.atomic():
        PrefixBreaker.objects.filter(pk=breaker.pk).update(monitor_only=value)
        audit.record(
            EventType.POLICY_CHANGED,
            tenant=breaker.tenant,
            actor=actor,
            ip=ip,
            detail={
                "target": "pumping_breaker",
                "key": breaker.prefix,
                "field": "monitor_only",
                "old": breaker.monitor_only,
                "new": value,
            },
        )
