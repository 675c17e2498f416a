"""Adding a phone as an SMS factor: start, resend, complete."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from intelliauth_sms import signals
from intelliauth_sms.crypto import phone_hash
from intelliauth_sms.exceptions import AlreadyEnrolled, CodeExpired, InvalidRequest
from intelliauth_sms.models import (
    CodePurpose,
    EventType,
    FactorPurpose,
    PendingEnrolment,
    SmsFactor,
)
from intelliauth_sms.phone import parse_e164
from intelliauth_sms.services import audit, codes, notifications, sql
from intelliauth_sms.services.context import Caller
from intelliauth_sms.services.lookup import read_owned
from intelliauth_sms.services.policy import current_policy
from intelliauth_sms.services.reads import exists


def start_enrolment(
    user: Any,
    phone_number: object,
    *,
    purpose: str = FactorPurpose.MFA,
    request: HttpRequest | None = None,
) -> tuple[PendingEnrolment, codes.IssuedCode]:
    """Validate the number, create a pending enrolment and send its first code.

    Raises ``InvalidPhoneNumber``, ``AlreadyEnrolled`` or a gate refusal; every refusal is
    audited and leaves no enrolment behind.
    """
    caller = Caller.for_user(user, request)
    with audit.refusals_recorded(
        EventType.ENROLMENT_REFUSED, caller, purpose=CodePurpose.ENROLMENT
    ):
        if purpose not in FactorPurpose.values:
            raise InvalidRequest()
        phone = parse_e164(phone_number)
    with audit.refusals_recorded(
        EventType.SMS_REFUSED, caller, purpose=CodePurpose.ENROLMENT, phone_last4=phone.last4
    ):
        if exists(SmsFactor, {"user_id": user.pk, "phone_hash": phone_hash(phone.e164)}):
            raise AlreadyEnrolled()
        with transaction.atomic():
            enrolment = PendingEnrolment(user=user, tenant=caller.tenant, purpose=purpose)
            enrolment.set_phone(phone)
            sql.insert([enrolment])
            issued = codes.issue_code(
                caller,
                purpose=CodePurpose.ENROLMENT,
                subject_id=enrolment.id,
                destination=phone,
                new_subject=True,
            )
    return enrolment, issued


def _pending(user: Any, enrolment_id: object) -> PendingEnrolment:
    """The caller's own enrolment that has not been completed, locked; else ``not_found``."""
    return read_owned(
        PendingEnrolment,
        enrolment_id,
        {"user_id": user.pk, "completed_at__isnull": True},
        lock=True,
    )


def resend_enrolment_code(
    user: Any, enrolment_id: object, *, request: HttpRequest | None = None
) -> tuple[PendingEnrolment, codes.IssuedCode]:
    """Send a new code for a pending enrolment; the previous code stops working."""
    caller = Caller.for_user(user, request)
    with (
        audit.refusals_recorded(
            EventType.SMS_REFUSED, None, purpose=CodePurpose.ENROLMENT
        ) as refusal,
        transaction.atomic(),
    ):
        # One read, under the enrolment's lock. A foreign or unknown id raises before the
        # refusal's subject is known, and is not recorded as a send refusal.
        enrolment = _pending(user, enrolment_id)
        refusal.caller, refusal.subject_id = caller, enrolment.id
        refusal.phone_last4 = enrolment.phone_last4
        issued = codes.issue_code(
            caller,
            purpose=CodePurpose.ENROLMENT,
            subject_id=enrolment.id,
            destination=enrolment.phone,
        )
    return enrolment, issued


def complete_enrolment(
    user: Any, enrolment_id: object, code: object, *, request: HttpRequest | None = None
) -> SmsFactor:
    """Check the code; on success the phone becomes an ``SmsFactor`` (signal + email)."""
    caller = Caller.for_user(user, request)
    with (
        audit.refusals_recorded(
            EventType.CODE_CHECKED, None, purpose=CodePurpose.ENROLMENT
        ) as refusal,
        transaction.atomic(),
        audit.written_together(),  # the check's event and the enrolment's: one INSERT
    ):
        # One read, under the enrolment's lock; then the typed code's format (a malformed
        # code is refused, audited and not counted, before anything is judged).
        enrolment = read_owned(PendingEnrolment, enrolment_id, {"user_id": user.pk}, lock=True)
        refusal.caller, refusal.subject_id = caller, enrolment.id
        refusal.phone_last4 = enrolment.phone_last4
        typed = codes.normalise_code(code)
        if enrolment.completed_at is not None:
            verdict = codes.Verdict(
                error=CodeExpired(ttl_seconds=current_policy(caller).code_ttl_seconds)
            )
        else:
            verdict = codes.check_code(
                caller,
                purpose=CodePurpose.ENROLMENT,
                subject_id=enrolment.id,
                typed=typed,
                phone_last4=enrolment.phone_last4,
            )
        factor = _enrol(caller, enrolment) if verdict.error is None else None
    verdict.raise_if_refused()
    if factor is None:
        raise RuntimeError("A verified enrolment always yields a factor.")
    return factor


def _enrol(caller: Caller, enrolment: PendingEnrolment) -> SmsFactor:
    now = timezone.now()
    factor = SmsFactor(user=caller.user, tenant_id=enrolment.tenant_id, purpose=enrolment.purpose)
    factor.set_phone(enrolment.phone)
    try:
        with transaction.atomic():
            factor.save()
    except IntegrityError as exc:
        # The same number was enrolled through another enrolment meanwhile.
        raise AlreadyEnrolled() from exc
    enrolment.completed_at = now
    enrolment.factor = factor
    enrolment.phone_number = ""  # the factor holds the number now
    sql.update_one(
        PendingEnrolment,
        {"id": enrolment.pk},
        {"completed_at": now, "factor_id": factor.pk, "phone_number": ""},
    )
    audit.record(
        EventType.FACTOR_ENROLLED,
        caller,
        purpose=CodePurpose.ENROLMENT,
        phone_last4=factor.phone_last4,
        subject_id=factor.id,
        detail={"factor_purpose": factor.purpose},
    )
    notifications.notify(
        caller.user,
        "factor_enrolled",
        {
            "phone_number_masked": factor.phone_number_masked,
            "when": now,
        },
    )
    request = caller.request
    transaction.on_commit(
        lambda: signals.factor_enrolled.send(
            sender=__name__, user=caller.user, factor=factor, request=request
        )
    )
    return factor
