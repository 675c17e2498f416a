"""Support staff unlock a user and reveal a number with a reason; both are audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from intelliauth_sms.exceptions import InvalidRequest
from intelliauth_sms.models import AuditEvent, EventType, SmsUserState
from intelliauth_sms.services.support import reveal_for_support, unlock_user
from tests.factories import SmsFactorFactory, UserFactory


def test_unlock_clears_a_hard_cap_disablement_and_is_audited_with_the_actor(user: Any) -> None:
    agent = UserFactory(username="agent")
    SmsUserState.objects.create(
        user=user, consecutive_failures=20, failed_attempts=0, disabled_at=timezone.now()
    )

    assert unlock_user(agent, user, reason="verified by phone call") is True

    state = SmsUserState.objects.get(user=user)
    assert (state.disabled_at, state.locked_until, state.consecutive_failures) == (None, None, 0)
    event = AuditEvent.objects.get(event_type=EventType.USER_UNLOCKED)
    assert event.actor == agent and event.user == user
    assert event.detail["reason"] == "verified by phone call"
    assert event.detail["was_locked"] is True
    assert event.detail["previous"]["consecutive_failures"] == 20
    assert event.detail["previous"]["disabled_at"] is not None


def test_unlocking_a_user_who_was_not_locked_reports_nothing_cleared(user: Any) -> None:
    assert unlock_user(UserFactory(username="agent"), user) is False


def test_support_reveal_needs_a_reason_and_records_it(user: Any) -> None:
    factor = SmsFactorFactory(user=user, phone="+14155550100")
    agent = UserFactory(username="agent")

    with pytest.raises(InvalidRequest):
        reveal_for_support(agent, factor, reason="   ")
    assert not AuditEvent.objects.filter(event_type=EventType.NUMBER_REVEALED).exists()

    assert reveal_for_support(agent, factor, reason="ticket 42") == "+14155550100"
    event = AuditEvent.objects.get(event_type=EventType.NUMBER_REVEALED)
    assert (event.actor, event.phone_last4, event.detail["reason"]) == (agent, "0100", "ticket 42")
