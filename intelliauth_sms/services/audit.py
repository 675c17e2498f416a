"""Recording audit events, and the matching log line, with at most the last 4 digits."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db.models import signals
from django.utils import timezone

from intelliauth_sms.exceptions import SmsError
from intelliauth_sms.models import AuditEvent, CodePurpose, EventType, Outcome, SmsMessage
from intelliauth_sms.services import sql
from intelliauth_sms.services.context import Caller

logger = logging.getLogger("intelliauth_sms.audit")

#: The events of the innermost ``written_together`` block, not yet written.
_held: ContextVar[list[AuditEvent] | None] = ContextVar("intelliauth_sms_audit_held", default=None)


@contextmanager
def written_together() -> Iterator[None]:
    """Write the events recorded inside the block in one ``INSERT`` when it ends.

    For a step that records several events in one transaction (a code checked, then the
    flow verified or the factor enrolled): one statement instead of one per event. Use it
    inside the caller's ``transaction.atomic()``: if the block raises, its events are
    dropped, as the rollback would have dropped them. A nested block hands its events to
    the outer one when it ends, or drops them if it raises. Each event still sends Django's
    ``pre_save`` and ``post_save`` (``created=True``), as ``save()`` would, so a site that
    forwards audit events from a ``post_save`` receiver sees every one.
    """
    outer = _held.get()
    events: list[AuditEvent] = []
    token = _held.set(events)
    try:
        yield
    finally:
        _held.reset(token)
    if outer is not None:
        outer.extend(events)
    elif events:
        _write(events)


def _write(events: list[AuditEvent]) -> None:
    """One ``INSERT`` for ``events`` (``sql.insert``), with the signals ``save()`` sends."""
    using = sql.database().alias
    for event in events:
        signals.pre_save.send(
            sender=AuditEvent, instance=event, raw=False, using=using, update_fields=None
        )
    sql.insert(events)
    for event in events:
        signals.post_save.send(
            sender=AuditEvent,
            instance=event,
            created=True,
            raw=False,
            using=using,
            update_fields=None,
        )


def record(
    event_type: EventType,
    caller: Caller | None = None,
    *,
    outcome: Outcome = Outcome.SUCCESS,
    failure_code: str = "",
    purpose: str = "",
    phone_last4: str = "",
    subject_id: uuid.UUID | None = None,
    actor: Any = None,
    detail: dict[str, Any] | None = None,
    user: Any = None,
    tenant: Any = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event. ``caller`` fills user, tenant and IP unless given explicitly.

    Written at once (with the ``pre_save`` and ``post_save`` signals ``save()`` sends), or
    inside ``written_together`` when that block ends: until then (and for good on
    databases that cannot return the ids of several new rows) its ``pk`` is ``None``.
    """
    if caller is not None:
        user = user if user is not None else caller.user
        tenant = tenant if tenant is not None else caller.tenant
        ip = ip if ip is not None else caller.ip
    if len(phone_last4) > 4:
        raise ValueError("Audit events hold at most the last 4 digits of a number.")
    event = AuditEvent(
        created_at=timezone.now(),
        event_type=event_type,
        outcome=outcome,
        failure_code=failure_code,
        purpose=purpose,
        is_recovery=purpose == CodePurpose.RECOVERY or event_type.startswith("recovery"),
        user=user,
        actor=actor,
        tenant=tenant,
        ip_address=ip,
        phone_last4=phone_last4,
        subject_id=subject_id,
        detail=detail or {},
    )
    held = _held.get()
    if held is None:
        _write([event])
    else:
        held.append(event)
    logger.info(
        "%s outcome=%s failure_code=%s purpose=%s user=%s tenant=%s last4=%s",
        event_type.value,
        outcome.value,
        failure_code or "-",
        purpose or "-",
        getattr(user, "pk", None),
        getattr(tenant, "slug", None),
        phone_last4 or "-",
    )
    return event


def record_for_message(
    event_type: EventType,
    message: SmsMessage,
    *,
    outcome: Outcome,
    failure_code: str = "",
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event about an SMS message: its purpose, last 4 digits, subject, user and
    tenant. ``ip`` is the sender's address bucket (``message.client_ip``) where the event
    belongs to the send; a provider's delivery report has none."""
    return record(
        event_type,
        outcome=outcome,
        failure_code=failure_code,
        purpose=message.purpose,
        phone_last4=message.phone_last4,
        subject_id=message.subject_id,
        user=message.user,
        tenant=message.tenant,
        ip=ip,
        detail=detail,
    )


@dataclass
class RefusalContext:
    """Who and what a refusal is recorded for; a block that learns them only inside (it
    reads the flow under its lock) fills them in. Without a caller nothing is recorded:
    an unknown id is nobody's refusal, and must not fill the audit trail."""

    caller: Caller | None
    purpose: str = ""
    phone_last4: str = ""
    subject_id: uuid.UUID | None = None


@contextmanager
def refusals_recorded(
    event_type: EventType,
    caller: Caller | None,
    *,
    purpose: str = "",
    phone_last4: str = "",
    subject_id: uuid.UUID | None = None,
) -> Iterator[RefusalContext]:
    """Record an ``SmsError`` raised inside the block as a failed event, then re-raise it.

    Use it *outside* the block's ``transaction.atomic()`` so the event survives the rollback.
    """
    context = RefusalContext(caller, purpose, phone_last4, subject_id)
    try:
        yield context
    except SmsError as error:
        if context.caller is not None:
            record(
                event_type,
                context.caller,
                outcome=Outcome.FAILURE,
                failure_code=error.code,
                purpose=context.purpose,
                phone_last4=context.phone_last4,
                subject_id=context.subject_id,
                detail=error.audit_detail,
            )
        if error.on_refused is not None:
            error.on_refused()  # what the refusal decided, kept after the rollback
        raise
