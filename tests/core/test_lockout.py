"""The failed-code lockout and the hard cap: per user, across every code and subject."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from intelliauth_sms import signals
from intelliauth_sms.exceptions import CodeExpired, InvalidCode, Locked
from intelliauth_sms.models import (
    AuditEvent,
    CodePurpose,
    CodeState,
    EventType,
    Outcome,
    SmsCode,
    SmsUserState,
    TenantPolicy,
)
from intelliauth_sms.services.context import Caller
from tests.core.conftest import START, user_state, wrong

pytestmark = pytest.mark.django_db


def fail(sms: Any, caller: Any, sent: Any, times: int) -> list[Exception]:
    """Type ``times`` wrong codes for ``sent``; return what each answered."""
    answers: list[Exception] = []
    for _ in range(times):
        with pytest.raises((InvalidCode, Locked)) as raised:
            sms.check(caller, sent.subject, wrong(sent.code))
        answers.append(raised.value)
    return answers


@pytest.fixture
def lockouts(db: Any) -> Any:
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append({"sender": sender, **kwargs})

    signals.lockout_started.connect(receiver, dispatch_uid="test-lockouts")
    yield received
    signals.lockout_started.disconnect(dispatch_uid="test-lockouts")


def test_wrong_codes_count_down_attempts_remaining(sms: Any, caller: Any) -> None:
    sent = sms.send(caller)
    answers = fail(sms, caller, sent, 4)

    assert [type(a) for a in answers] == [InvalidCode] * 4
    assert [a.extra["attempts_remaining"] for a in answers] == [4, 3, 2, 1]
    assert user_state(caller.user).failed_attempts == 4


def test_the_fifth_wrong_code_answers_locked_for_900_seconds_and_burns_the_code(
    sms: Any, caller: Any, clock: Any
) -> None:
    sent = sms.send(caller)
    answers = fail(sms, caller, sent, 5)

    assert isinstance(answers[-1], Locked)
    assert answers[-1].code == "locked" and answers[-1].retry_after == 900
    assert user_state(caller.user).locked_until == START + timedelta(minutes=15)
    assert sent.sms_code.state == CodeState.BURNED
    # Even the right code answers locked now, and does not extend the lockout.
    clock.shift(60)
    with pytest.raises(Locked) as raised:
        sms.check(caller, sent.subject, sent.code)
    assert raised.value.retry_after == 840
    assert user_state(caller.user).locked_until == START + timedelta(minutes=15)


def test_wrong_codes_count_across_subjects_and_the_lockout_burns_every_active_code(
    sms: Any, caller: Any
) -> None:
    enrolling = sms.send(caller, purpose=CodePurpose.ENROLMENT)
    signing_in = sms.send(caller, purpose=CodePurpose.AUTHENTICATION)
    recovering = sms.send(caller, purpose=CodePurpose.RECOVERY)

    for _ in range(2):
        with pytest.raises(InvalidCode):
            sms.check(caller, enrolling.subject, wrong(enrolling.code))
    for _ in range(2):
        with pytest.raises(InvalidCode):
            sms.check(caller, signing_in.subject, wrong(signing_in.code))
    with pytest.raises(Locked):
        sms.check(caller, recovering.subject, wrong(recovering.code))

    states = set(SmsCode.objects.filter(user=caller.user).values_list("state", flat=True))
    assert states == {CodeState.BURNED}


def test_one_users_lockout_does_not_touch_another_user(
    sms: Any, caller: Any, other_user: Any
) -> None:
    mallory = Caller.for_user(other_user)
    theirs = sms.send(mallory)
    fail(sms, caller, sms.send(caller), 5)

    assert user_state(other_user).locked_until is None
    assert sms.check(mallory, theirs.subject, theirs.code).pk == theirs.sms_code.pk


def test_sends_are_refused_as_locked_while_the_lockout_lasts(
    sms: Any, caller: Any, clock: Any, outbox: list[Any]
) -> None:
    fail(sms, caller, sms.send(caller), 5)
    sent_before = len(outbox)
    clock.shift(timedelta(minutes=14, seconds=59))

    with pytest.raises(Locked) as raised:
        sms.send(caller)
    assert raised.value.retry_after == 1
    assert len(outbox) == sent_before


def test_the_lockout_ends_after_lockout_minutes(sms: Any, caller: Any, clock: Any) -> None:
    fail(sms, caller, sms.send(caller), 5)
    clock.shift(timedelta(minutes=15))

    sent = sms.send(caller)
    assert sms.check(caller, sent.subject, sent.code).state == CodeState.USED


def test_lockout_length_follows_the_tenant_policy(
    sms: Any, caller: Any, clock: Any, default_tenant: Any
) -> None:
    policy = TenantPolicy.objects.get(tenant=default_tenant)
    policy.max_failed_attempts = 3
    policy.lockout_minutes = 2
    policy.save()

    answers = fail(sms, caller, sms.send(caller), 3)

    assert isinstance(answers[-1], Locked) and answers[-1].retry_after == 120
    clock.shift(120)
    sms.send(caller)


def test_after_a_lockout_the_count_starts_again_from_zero(
    sms: Any, caller: Any, clock: Any
) -> None:
    fail(sms, caller, sms.send(caller), 5)
    clock.shift(timedelta(minutes=15))

    answers = fail(sms, caller, sms.send(caller), 4)

    assert [type(a) for a in answers] == [InvalidCode] * 4
    assert answers[-1].extra["attempts_remaining"] == 1


def test_a_new_code_never_resets_the_failed_count(sms: Any, caller: Any) -> None:
    first = sms.send(caller)
    fail(sms, caller, first, 4)
    resent = sms.send(caller, subject=first.subject)

    with pytest.raises(Locked):
        sms.check(caller, resent.subject, wrong(resent.code, first.code))


def test_a_code_on_a_new_subject_does_not_reset_the_failed_count_either(
    sms: Any, caller: Any
) -> None:
    fail(sms, caller, sms.send(caller), 4)
    other = sms.send(caller)

    with pytest.raises(Locked):
        sms.check(caller, other.subject, wrong(other.code))


def test_a_correct_code_resets_the_failed_count(sms: Any, caller: Any) -> None:
    first = sms.send(caller)
    fail(sms, caller, first, 4)
    sms.check(caller, first.subject, first.code)

    state = user_state(caller.user)
    assert (state.failed_attempts, state.consecutive_failures) == (0, 0)
    answers = fail(sms, caller, sms.send(caller), 4)
    assert [type(a) for a in answers] == [InvalidCode] * 4


def test_a_replaced_code_answers_code_expired_and_is_not_counted(sms: Any, caller: Any) -> None:
    first = sms.send(caller)
    fail(sms, caller, first, 4)
    resent = sms.send(caller, subject=first.subject)
    if resent.code == first.code:  # pragma: no cover - one in a million
        pytest.skip("the CSPRNG repeated the code")

    for _ in range(3):
        with pytest.raises(CodeExpired):
            sms.check(caller, first.subject, first.code)
    assert user_state(caller.user).failed_attempts == 4
    assert sms.check(caller, resent.subject, resent.code).state == CodeState.USED


def test_an_expired_code_answers_code_expired_and_is_not_counted(
    sms: Any, caller: Any, clock: Any
) -> None:
    sent = sms.send(caller)
    fail(sms, caller, sent, 4)
    clock.shift(300)

    for _ in range(3):
        with pytest.raises(CodeExpired):
            sms.check(caller, sent.subject, wrong(sent.code))
    assert user_state(caller.user).failed_attempts == 4


def test_lockout_started_signal_carries_user_tenant_and_end(
    sms: Any, caller: Any, clock: Any, lockouts: list[dict[str, Any]]
) -> None:
    sent = sms.send(caller)
    fail(sms, caller, sent, 4)
    assert lockouts == []
    fail(sms, caller, sent, 1)

    assert lockouts == [
        {
            "sender": "intelliauth_sms.services.codes",
            "signal": signals.lockout_started,
            "user": caller.user,
            "tenant": caller.tenant,
            "locked_until": START + timedelta(minutes=15),
            "disabled": False,
        }
    ]


def test_a_lockout_is_audited(sms: Any, caller: Any) -> None:
    sent = sms.send(caller)
    fail(sms, caller, sent, 5)

    event = AuditEvent.objects.get(event_type=EventType.LOCKOUT_STARTED)
    assert (event.outcome, event.failure_code) == (Outcome.FAILURE, "locked")
    assert (event.user, event.tenant) == (caller.user, caller.tenant)
    checks = AuditEvent.objects.filter(event_type=EventType.CODE_CHECKED).order_by("id")
    assert [e.failure_code for e in checks] == ["invalid_code"] * 4 + ["locked"]


# --- the hard cap across lockouts -----------------------------------------------------------


def lock_out_four_times(sms: Any, caller: Any, clock: Any) -> list[Exception]:
    """20 wrong codes: four lockouts' worth, waiting each lockout out."""
    answers: list[Exception] = []
    for _ in range(4):
        answers += fail(sms, caller, sms.send(caller), 5)
        clock.shift(timedelta(minutes=15))
    return answers


def test_twenty_consecutive_wrong_codes_disable_sms_until_support_unlocks(
    sms: Any, caller: Any, clock: Any
) -> None:
    answers = lock_out_four_times(sms, caller, clock)

    assert [a.retry_after for a in answers if isinstance(a, Locked)] == [900, 900, 900, None]
    assert isinstance(answers[-1], Locked) and answers[-1].retry_after is None
    state = user_state(caller.user)
    assert state.disabled_at is not None and state.consecutive_failures == 20


def test_disabled_sms_stays_disabled_however_long_one_waits(
    sms: Any, caller: Any, clock: Any
) -> None:
    lock_out_four_times(sms, caller, clock)
    clock.shift(timedelta(days=30))

    with pytest.raises(Locked) as on_send:
        sms.send(caller)
    assert on_send.value.retry_after is None
    with pytest.raises(Locked) as on_check:
        sms.check(caller, SmsCode.objects.latest("created_at").subject_id, "123456")
    assert on_check.value.retry_after is None


def test_clearing_the_user_state_lifts_the_disablement(sms: Any, caller: Any, clock: Any) -> None:
    lock_out_four_times(sms, caller, clock)

    SmsUserState.objects.filter(user=caller.user).delete()

    sent = sms.send(caller)
    assert sms.check(caller, sent.subject, sent.code).state == CodeState.USED


def test_a_correct_code_between_lockouts_resets_the_hard_cap_count(
    sms: Any, caller: Any, clock: Any
) -> None:
    for _ in range(3):
        fail(sms, caller, sms.send(caller), 5)
        clock.shift(timedelta(minutes=15))
    sent = sms.send(caller)
    sms.check(caller, sent.subject, sent.code)

    answers = fail(sms, caller, sms.send(caller), 5)
    assert answers[-1].retry_after == 900  # an ordinary lockout, not a disablement
    assert user_state(caller.user).disabled_at is None


def test_the_hard_cap_follows_the_tenant_policy_and_counts_across_lockouts(
    sms: Any, caller: Any, clock: Any, default_tenant: Any
) -> None:
    policy = TenantPolicy.objects.get(tenant=default_tenant)
    policy.disable_after_failures = 7
    policy.save()

    first = fail(sms, caller, sms.send(caller), 5)
    assert first[-1].retry_after == 900
    clock.shift(timedelta(minutes=15))
    second = fail(sms, caller, sms.send(caller), 2)

    assert isinstance(second[0], InvalidCode) and second[0].extra["attempts_remaining"] == 1
    assert isinstance(second[1], Locked) and second[1].retry_after is None


def test_disablement_is_signalled_and_audited(
    sms: Any, caller: Any, clock: Any, lockouts: list[dict[str, Any]]
) -> None:
    lock_out_four_times(sms, caller, clock)

    assert [s["disabled"] for s in lockouts] == [False, False, False, True]
    assert lockouts[-1]["locked_until"] is None
    assert lockouts[-1]["user"] == caller.user and lockouts[-1]["tenant"] == caller.tenant
    assert AuditEvent.objects.filter(event_type=EventType.LOCKOUT_STARTED).count() == 3
    disabled = AuditEvent.objects.get(event_type=EventType.SMS_DISABLED)
    assert (disabled.outcome, disabled.failure_code) == (Outcome.FAILURE, "locked")
    assert disabled.user == caller.user
