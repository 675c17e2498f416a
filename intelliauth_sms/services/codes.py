"""The code core: issuing codes through the gate, and checking typed codes.

Used by every flow (enrolment, sign-in step, recovery). A code belongs to one subject (the
enrolment, flow or recovery id); only the subject's latest code works, once, until it
expires. Wrong codes count per user across all subjects (``SmsUserState``).
"""

from __future__ import annotations

import math
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from intelliauth_sms import signals
from intelliauth_sms.client_ip import ip_bucket
from intelliauth_sms.crypto import code_hash, encrypt_secret, hashes_match
from intelliauth_sms.exceptions import CodeExpired, InvalidCode, InvalidCodeFormat, Locked, SmsError
from intelliauth_sms.models import (
    CodeState,
    EventType,
    Outcome,
    SmsCode,
    SmsMessage,
    SmsUserState,
    TenantPolicy,
)
from intelliauth_sms.phone import PhoneNumber
from intelliauth_sms.services import audit, dispatch, sql
from intelliauth_sms.services.context import Caller
from intelliauth_sms.services.delivery_claim import payload_check
from intelliauth_sms.services.locks import lock_user_state
from intelliauth_sms.services.policy import (
    authorise_send,
    current_policy,
    ensure_not_locked,
    policy_for_send,
)
from intelliauth_sms.services.pumping import prefix_hash
from intelliauth_sms.services.reads import read_one

CODE_DIGITS = 6
_CODE = re.compile(r"[0-9]{6}")
_IGNORED = str.maketrans("", "", " -")
# Longer input cannot be a code with separators; refuse before doing any work on it.
_MAX_INPUT_LENGTH = 64


def generate_code() -> str:
    """Six decimal digits from the operating system's CSPRNG."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise_code(raw: object) -> str:
    """Strip the spaces and hyphens a user typed; anything else but 6 ASCII digits is refused.

    Raises ``InvalidCodeFormat`` (which never counts as an attempt).
    """
    if not isinstance(raw, str) or len(raw) > _MAX_INPUT_LENGTH:
        raise InvalidCodeFormat()
    candidate = raw.translate(_IGNORED)
    if not _CODE.fullmatch(candidate):
        raise InvalidCodeFormat()
    return candidate


@dataclass(frozen=True)
class IssuedCode:
    """A code that passed the gate and is queued for delivery."""

    code: SmsCode
    message: SmsMessage

    @property
    def expires_at(self) -> datetime:
        return self.code.expires_at


def issue_code(
    caller: Caller,
    *,
    purpose: str,
    subject_id: uuid.UUID,
    destination: PhoneNumber,
    new_subject: bool = False,
    plaintext: str | None = None,
    ttl_seconds: int | None = None,
) -> IssuedCode:
    """Send a new code for ``subject_id`` to ``destination``, if the gate allows it.

    The code is generated here unless ``plaintext`` is given (a code another library made
    and checks itself, ``contrib.allauth``), and lives for the tenant's code TTL unless
    ``ttl_seconds`` is given.

    Must be called inside ``transaction.atomic()``; the caller records the refusal
    (``audit.refusals_recorded``) outside it. Replaces the subject's previous codes (none
    when the caller created the subject in this transaction: ``new_subject``), records the
    send, and enqueues delivery once the transaction commits, with the code encrypted in the
    task payload.
    """
    now = timezone.now()
    state = lock_user_state(caller.user, caller.tenant)
    policy = policy_for_send(caller, destination.country)
    try:
        pricing = authorise_send(
            caller,
            state,
            purpose=purpose,
            subject_id=subject_id,
            destination=destination,
            now=now,
            policy=policy,
        )
    except SmsError as refusal:
        # The refusal's audit event (recorded after the rollback) names the country, so
        # the console can show refusals per destination country.
        refusal.audit_detail = {"country": destination.country}
        raise
    if not new_subject:  # a subject created in this transaction has no code to replace
        sql.update(
            SmsCode,
            {"subject_id": subject_id, "state": CodeState.ACTIVE},
            {"state": CodeState.REPLACED},
        )
    if plaintext is None:
        plaintext = generate_code()
    if ttl_seconds is None:
        ttl_seconds = policy.code_ttl_seconds
    code = SmsCode(
        user=caller.user,
        tenant=caller.tenant,
        purpose=purpose,
        subject_id=subject_id,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    code.code_hash = code_hash(str(code.id), plaintext)
    sql.insert([code])
    message = SmsMessage(
        code=code,
        user=caller.user,
        tenant=caller.tenant,
        purpose=purpose,
        subject_id=subject_id,
        # The per-IP limit's bucket (IPv6 /64, mapped IPv4 as IPv4, None: no address);
        # audit events keep the exact address.
        client_ip=ip_bucket(caller.ip),
        unit_cost=pricing.unit_cost,
        high_cost=pricing.high_cost,
        created_at=now,
        due_at=now,
    )
    message.set_phone(destination)
    message.prefix_hash = prefix_hash(destination.e164)
    message.payload_check = payload_check(message.id, plaintext)
    message.language = get_language() or ""  # the SMS goes out in this request's language
    sql.insert([message])
    audit.record(
        EventType.SMS_SENT,
        caller,
        purpose=purpose,
        phone_last4=destination.last4,
        subject_id=subject_id,
        detail={"country": destination.country},
    )
    sealed = encrypt_secret(plaintext)
    message_id, language = str(message.id), message.language

    def queue_delivery() -> None:
        if not dispatch.deliver_sms(message_id, sealed, language):
            # The broker is down: the request still answers, the message stays queued
            # (CONTRACT §7), and support can see why it has not gone out yet.
            audit.record(
                EventType.SMS_QUEUE_UNAVAILABLE,
                caller,
                outcome=Outcome.FAILURE,
                purpose=purpose,
                phone_last4=destination.last4,
                subject_id=subject_id,
            )

    transaction.on_commit(queue_delivery)
    return IssuedCode(code=code, message=message)


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: the matched code, or the error to raise after commit."""

    code: SmsCode | None = None
    error: SmsError | None = None

    def raise_if_refused(self) -> SmsCode:
        """Return the verified code or raise the refusal (call after the transaction)."""
        if self.error is not None:
            raise self.error
        if self.code is None:
            raise RuntimeError("A verdict has either a code or an error.")
        return self.code


def _codes_of(user: Any, subject_id: uuid.UUID) -> QuerySet[SmsCode]:
    # Scoped to the user as well as the subject, so a code can never be judged for another
    # user's subject even if a caller forgot to check who owns it.
    return SmsCode.objects.filter(user=user, subject_id=subject_id)


def _latest_code(user: Any, subject_id: uuid.UUID) -> SmsCode | None:
    # The active code, if any, is the latest: issuing replaces every other one under the
    # user's lock. Ordering by ``created_at`` alone picks an arbitrary code when two share a
    # timestamp (coarse clocks, clock steps between processes).
    codes = {"user_id": user.pk, "subject_id": subject_id}
    active = read_one(SmsCode, {**codes, "state": CodeState.ACTIVE}, first_by="-created_at")
    return active or read_one(SmsCode, codes, first_by="-created_at")


def _matches(code: SmsCode, typed: str) -> bool:
    return hashes_match(code.code_hash, code_hash(str(code.id), typed))


def _matches_an_older_code(user: Any, subject_id: uuid.UUID, typed: str, latest: SmsCode) -> bool:
    older = _codes_of(user, subject_id).exclude(pk=latest.pk)
    return any(_matches(code, typed) for code in older.order_by("-created_at")[:20])


def _register_wrong_code(
    caller: Caller, state: SmsUserState, policy: TenantPolicy, now: datetime
) -> SmsError:
    """Count a wrong code; lock or disable the user when a limit is reached."""
    state.failed_attempts += 1
    state.consecutive_failures += 1
    if state.consecutive_failures >= policy.disable_after_failures:
        state.disabled_at = now
        state.locked_until = None
        error: SmsError = Locked.for_wait(None)
        event = EventType.SMS_DISABLED
    elif state.failed_attempts >= policy.max_failed_attempts:
        state.failed_attempts = 0
        state.locked_until = now + timedelta(minutes=policy.lockout_minutes)
        error = Locked.for_wait(policy.lockout_minutes * 60)
        event = EventType.LOCKOUT_STARTED
    else:
        state.save(update_fields=["failed_attempts", "consecutive_failures"])
        remaining = min(
            policy.max_failed_attempts - state.failed_attempts,
            policy.disable_after_failures - state.consecutive_failures,
        )
        return InvalidCode(attempts_remaining=remaining, ttl_seconds=policy.code_ttl_seconds)
    state.save()
    burn_active_codes(caller.user)
    audit.record(event, caller, outcome=Outcome.FAILURE, failure_code="locked")
    locked_until, disabled = state.locked_until, state.disabled_at is not None
    transaction.on_commit(
        lambda: signals.lockout_started.send(
            sender=issue_code.__module__,
            user=caller.user,
            tenant=caller.tenant,
            locked_until=locked_until,
            disabled=disabled,
        )
    )
    return error


def burn_active_codes(user: Any) -> int:
    """Invalidate every active code of ``user`` (a lockout burns the current code)."""
    return SmsCode.objects.filter(user=user, state=CodeState.ACTIVE).update(state=CodeState.BURNED)


def check_code(
    caller: Caller, *, purpose: str, subject_id: uuid.UUID, typed: str, phone_last4: str = ""
) -> Verdict:
    """Judge a normalised code for ``subject_id``; every check is audited.

    Must run inside ``transaction.atomic()`` so the attempt count and the code's use commit
    with whatever the caller does on success; raise ``Verdict.error`` after the commit.
    """
    now = timezone.now()
    state = lock_user_state(caller.user, caller.tenant)
    policy = current_policy(caller)
    verdict = _judge(caller, state, policy, subject_id, typed, now)
    audit.record(
        EventType.CODE_CHECKED,
        caller,
        outcome=Outcome.SUCCESS if verdict.error is None else Outcome.FAILURE,
        failure_code=verdict.error.code if verdict.error else "",
        purpose=purpose,
        phone_last4=phone_last4,
        subject_id=subject_id,
    )
    return verdict


def _judge(
    caller: Caller,
    state: SmsUserState,
    policy: TenantPolicy,
    subject_id: uuid.UUID,
    typed: str,
    now: datetime,
) -> Verdict:
    try:
        ensure_not_locked(state, now)
    except Locked as locked:
        return Verdict(error=locked)
    expired = CodeExpired(ttl_seconds=policy.code_ttl_seconds)
    latest = _latest_code(caller.user, subject_id)
    if latest is None or latest.state != CodeState.ACTIVE or latest.expires_at <= now:
        # Nothing valid to guess against: not a counted attempt.
        return Verdict(error=expired)
    if _matches(latest, typed):
        used = {"state": CodeState.USED, "used_at": now}
        # Only while still active: under the user's lock nothing else can use it meanwhile,
        # and if something did, this check must not succeed a second time.
        if not sql.update(SmsCode, {"id": latest.pk, "state": CodeState.ACTIVE}, used):
            return Verdict(error=expired)
        latest.state, latest.used_at = CodeState.USED, now
        if state.failed_attempts or state.consecutive_failures:
            state.failed_attempts = state.consecutive_failures = 0
            state.save(update_fields=["failed_attempts", "consecutive_failures"])
        return Verdict(code=latest)
    if _matches_an_older_code(caller.user, subject_id, typed, latest):
        return Verdict(error=expired)
    return Verdict(error=_register_wrong_code(caller, state, policy, now))


def remaining_seconds(moment: datetime) -> int:
    """Whole seconds from now until ``moment`` (at least 0)."""
    return max(0, math.ceil((moment - timezone.now()).total_seconds()))
