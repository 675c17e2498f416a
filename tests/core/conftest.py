"""Helpers for the service-level tests of the code core, the gate and delivery.

``sms`` drives ``intelliauth_sms.services.codes`` the way the enrolment, flow and recovery
services do: each send in its own ``transaction.atomic()`` with refusals audited outside it,
each check judged inside one and raised after it, and ``on_commit`` callbacks (the delivery
task, the lockout signal) run as they would on a real commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import transaction

from intelliauth_sms.models import (
    CodePurpose,
    EventType,
    SmsCode,
    SmsMessage,
    SmsUserState,
    Tenant,
    TenantPolicy,
)
from intelliauth_sms.phone import parse_e164
from intelliauth_sms.services import audit, codes
from intelliauth_sms.services.context import Caller
from tests.conftest import last_code

US = "+14155550100"
US_2 = "+12025550123"
GB = "+447400123456"
DE = "+4915123456789"
IP = "203.0.113.5"

#: A fixed moment the clock starts at in tests that move time (a Tuesday, 10:00 UTC).
START = datetime(2030, 1, 15, 10, 0, tzinfo=UTC)


@dataclass
class Sent:
    """One send that passed the gate: its subject, records and (if delivered) its code."""

    subject: uuid.UUID
    issued: codes.IssuedCode
    code: str | None
    callbacks: list[Callable[[], Any]]

    @property
    def message(self) -> SmsMessage:
        return SmsMessage.objects.get(pk=self.issued.message.pk)

    @property
    def sms_code(self) -> SmsCode:
        return SmsCode.objects.get(pk=self.issued.code.pk)


class SmsDriver:
    """Sends and checks codes through the code core, as the flow services do."""

    def __init__(self, capture: Any, outbox: list[Any]) -> None:
        self.capture = capture
        self.outbox = outbox

    def send(
        self,
        caller: Caller,
        *,
        subject: uuid.UUID | None = None,
        phone: str = US,
        purpose: str = CodePurpose.AUTHENTICATION,
        deliver: bool = True,
    ) -> Sent:
        subject = subject or uuid.uuid4()
        destination = parse_e164(phone)
        sent_before = len(self.outbox)
        with (
            self.capture(execute=deliver) as callbacks,
            audit.refusals_recorded(
                EventType.SMS_REFUSED,
                caller,
                purpose=purpose,
                phone_last4=destination.last4,
                subject_id=subject,
            ),
            transaction.atomic(),
        ):
            issued = codes.issue_code(
                caller, purpose=purpose, subject_id=subject, destination=destination
            )
        code = None
        if deliver:
            assert len(self.outbox) == sent_before + 1, "the send was not delivered"
            code = last_code(self.outbox)
        return Sent(subject=subject, issued=issued, code=code, callbacks=list(callbacks))

    def check(
        self,
        caller: Caller,
        subject: uuid.UUID,
        typed: str,
        *,
        purpose: str = CodePurpose.AUTHENTICATION,
    ) -> SmsCode:
        with self.capture(execute=True), transaction.atomic():
            verdict = codes.check_code(
                caller, purpose=purpose, subject_id=subject, typed=codes.normalise_code(typed)
            )
        return verdict.raise_if_refused()


@pytest.fixture
def sms(django_capture_on_commit_callbacks: Any, outbox: list[Any]) -> SmsDriver:
    return SmsDriver(django_capture_on_commit_callbacks, outbox)


@pytest.fixture
def default_tenant(db: Any) -> Tenant:
    return Tenant.objects.get(slug="default")


@pytest.fixture
def caller(user: Any) -> Caller:
    """``user`` (alice) in the default tenant, outside HTTP (no IP)."""
    return Caller.for_user(user)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Frozen time starting at ``START``; move it with ``clock.move_to`` / ``clock.shift``."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def user_state(user: Any) -> SmsUserState:
    state, _created = SmsUserState.objects.get_or_create(user=user)
    return state


def wrong(*avoid: str | None) -> str:
    """A well-formed code that is none of ``avoid``."""
    for candidate in ("000000", "111111", "222222", "333333", "444444"):
        if candidate not in avoid:
            return candidate
    raise AssertionError("unreachable")


def policy_of(tenant: Any, **changes: Any) -> TenantPolicy:
    """Change the tenant's policy fields and save it; returns the policy."""
    policy = TenantPolicy.objects.get(tenant=tenant)
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.save()
    return policy
