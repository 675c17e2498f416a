"""The code core: how codes are made, stored, compared, normalised and judged."""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from intelliauth_sms import crypto
from intelliauth_sms.exceptions import CodeExpired, InvalidCode, InvalidCodeFormat
from intelliauth_sms.models import AuditEvent, CodePurpose, CodeState, EventType, TenantPolicy
from intelliauth_sms.services import codes, enrolment
from tests.conftest import last_code
from tests.core.conftest import US, user_state, wrong

pytestmark = pytest.mark.django_db

SIX_ASCII_DIGITS = re.compile(r"[0-9]{6}")


# --- generation ---------------------------------------------------------------------------


def test_generated_codes_are_six_ascii_digits_spread_over_the_whole_range() -> None:
    samples = [codes.generate_code() for _ in range(3000)]

    assert all(SIX_ASCII_DIGITS.fullmatch(code) for code in samples)
    # Zero padding: about 10 % of codes are below 100000 and must keep their leading zero.
    assert sum(code.startswith("0") for code in samples) > 150
    first_digits = Counter(code[0] for code in samples)
    assert set(first_digits) == set("0123456789")
    assert all(200 < count < 420 for count in first_digits.values()), first_digits
    # 3000 draws from a million values: a handful of repeats at most.
    assert len(set(samples)) > 2980


def test_generate_code_draws_from_secrets_randbelow_over_a_million_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    def randbelow(n: int) -> int:
        calls.append(n)
        return 42

    monkeypatch.setattr(codes.secrets, "randbelow", randbelow)

    assert codes.generate_code() == "000042"
    assert calls == [10**6]


def test_the_code_in_the_sms_is_the_one_drawn_from_secrets(
    sms: Any, caller: Any, scripted_codes: Any
) -> None:
    scripted_codes("7")

    sent = sms.send(caller)

    assert sent.code == "000007"


# --- storage --------------------------------------------------------------------------------


def test_a_code_is_stored_only_as_its_keyed_hash(sms: Any, caller: Any) -> None:
    sent = sms.send(caller)
    stored = sent.sms_code

    assert stored.code_hash != sent.code
    assert re.fullmatch(r"[0-9a-f]{64}", stored.code_hash)
    assert stored.code_hash == crypto.code_hash(str(stored.id), sent.code)
    # Keyed: the same code under another hash key gives another hash.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto.app_settings.__class__, "HASH_KEY", property(lambda self: "other"))
        assert crypto.code_hash(str(stored.id), sent.code) != stored.code_hash


def test_no_column_of_any_app_table_holds_the_plaintext_code(
    sms: Any, caller: Any, clock: Any, scripted_codes: Any
) -> None:
    scripted_codes("730591")
    sent = sms.send(caller)
    assert sent.code == "730591"
    with pytest.raises(InvalidCode):  # a failed check is recorded too
        sms.check(caller, sent.subject, wrong(sent.code))
    sms.check(caller, sent.subject, sent.code)

    tables = [t for t in connection.introspection.table_names() if t.startswith("intelliauth")]
    assert "intelliauth_sms_smscode" in tables
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            for row in cursor.fetchall():
                for value in row:
                    assert sent.code not in str(value), f"{table} holds the code"


def test_codes_never_reach_the_logs(
    sms: Any, caller: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sent = sms.send(caller)
    with pytest.raises(InvalidCode):
        sms.check(caller, sent.subject, wrong(sent.code))
    sms.check(caller, sent.subject, sent.code)

    assert caplog.records, "expected audit log lines"
    for record in caplog.records:
        assert sent.code not in record.getMessage()
        assert US not in record.getMessage()


# --- comparison -----------------------------------------------------------------------------


def test_checking_a_code_compares_hashes_with_hashes_match(
    sms: Any, caller: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = sms.send(caller)
    compared: list[tuple[str, str]] = []

    def spy(stored: str, candidate: str) -> bool:
        compared.append((stored, candidate))
        return crypto.hashes_match(stored, candidate)

    monkeypatch.setattr(codes, "hashes_match", spy)

    sms.check(caller, sent.subject, sent.code)

    assert compared == [(sent.sms_code.code_hash, sent.sms_code.code_hash)]


def test_hashes_match_is_a_constant_time_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []
    real = crypto.constant_time_compare

    def spy(a: str, b: str) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(crypto, "constant_time_compare", spy)

    assert crypto.hashes_match("ab" * 32, "ab" * 32) is True
    assert crypto.hashes_match("ab" * 32, "cd" * 32) is False
    assert len(seen) == 2


# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("123456", "123456"),
        ("012345", "012345"),
        ("123 456", "123456"),
        ("123-456", "123456"),
        (" 1-2 3-4 5-6 ", "123456"),
        ("--123456--", "123456"),
    ],
)
def test_normalise_code_ignores_spaces_and_hyphens(typed: str, expected: str) -> None:
    assert codes.normalise_code(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "1234567",
        "12345a",
        "abcdef",
        "123.456",
        "123_456",
        "123\t456",
        "123456\n",
        "+123456",
        "١٢٣٤٥٦",  # Arabic-Indic digits
        "１２３４５６",  # fullwidth digits
        "12345٦",  # one non-ASCII digit
        "123\u00a0456",  # no-break space is not a space
        "123\u2013456",  # en dash is not a hyphen
        " " * 70 + "123456",  # absurdly long input
        123456,
        None,
        b"123456",
    ],
)
def test_normalise_code_refuses_everything_but_six_ascii_digits(typed: object) -> None:
    with pytest.raises(InvalidCodeFormat):
        codes.normalise_code(typed)


def test_a_badly_formatted_code_is_not_counted_as_an_attempt(
    user: Any, django_capture_on_commit_callbacks: Any, outbox: list[Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pending, _issued = enrolment.start_enrolment(user, US)

    for typed in ("12345a", "١٢٣٤٥٦", "１２３４５６"):
        with pytest.raises(InvalidCodeFormat):
            enrolment.complete_enrolment(user, pending.id, typed)

    assert user_state(user).failed_attempts == 0
    refused = AuditEvent.objects.filter(
        event_type=EventType.CODE_CHECKED, failure_code="invalid_code_format"
    )
    assert refused.count() == 3
    assert enrolment.complete_enrolment(user, pending.id, last_code(outbox)).phone_last4 == "0100"


# --- which code works -----------------------------------------------------------------------


def test_only_the_latest_code_of_a_subject_works(
    sms: Any, caller: Any, scripted_codes: Any
) -> None:
    scripted_codes("111111", "222222")
    first = sms.send(caller)
    second = sms.send(caller, subject=first.subject)

    with pytest.raises(CodeExpired):
        sms.check(caller, first.subject, first.code)
    assert first.sms_code.state == CodeState.REPLACED
    assert sms.check(caller, first.subject, second.code).pk == second.sms_code.pk


def test_a_code_works_only_once(sms: Any, caller: Any) -> None:
    sent = sms.send(caller)
    used = sms.check(caller, sent.subject, sent.code)

    assert used.state == CodeState.USED and used.used_at is not None
    with pytest.raises(CodeExpired):
        sms.check(caller, sent.subject, sent.code)
    assert user_state(caller.user).failed_attempts == 0


def test_a_code_of_one_subject_never_verifies_another(
    sms: Any, caller: Any, scripted_codes: Any
) -> None:
    scripted_codes("111111", "222222")
    enrolling = sms.send(caller, purpose=CodePurpose.ENROLMENT)
    signing_in = sms.send(caller, purpose=CodePurpose.AUTHENTICATION)

    with pytest.raises(InvalidCode):
        sms.check(caller, signing_in.subject, enrolling.code)
    with pytest.raises(InvalidCode):
        sms.check(caller, enrolling.subject, signing_in.code, purpose=CodePurpose.ENROLMENT)
    with pytest.raises(CodeExpired):  # a subject that never had a code
        sms.check(caller, uuid.uuid4(), enrolling.code)

    assert sms.check(caller, enrolling.subject, enrolling.code).pk == enrolling.sms_code.pk
    assert sms.check(caller, signing_in.subject, signing_in.code).pk == signing_in.sms_code.pk


def test_a_code_of_one_user_never_verifies_another_users_subject(
    sms: Any, caller: Any, other_user: Any, scripted_codes: Any
) -> None:
    from intelliauth_sms.services.context import Caller

    scripted_codes("111111", "222222")
    mallory = Caller.for_user(other_user)
    alices = sms.send(caller)
    mallorys = sms.send(mallory)

    with pytest.raises(InvalidCode):
        sms.check(mallory, mallorys.subject, alices.code)
    # Mallory's wrong code counts against Mallory, not Alice, and left Alice's code alone.
    assert user_state(other_user).failed_attempts == 1
    assert user_state(caller.user).failed_attempts == 0
    assert sms.check(caller, alices.subject, alices.code).pk == alices.sms_code.pk


# --- lifetime -------------------------------------------------------------------------------


def test_a_code_works_until_the_default_ttl_of_300_seconds(
    sms: Any, caller: Any, clock: Any
) -> None:
    early = sms.send(caller)
    late = sms.send(caller)
    assert early.sms_code.expires_at - early.sms_code.created_at == timedelta(seconds=300)

    clock.shift(299)
    sms.check(caller, early.subject, early.code)
    clock.shift(1)
    with pytest.raises(CodeExpired):
        sms.check(caller, late.subject, late.code)
    assert user_state(caller.user).failed_attempts == 0


def test_a_wrong_code_after_expiry_is_code_expired_and_not_counted(
    sms: Any, caller: Any, clock: Any
) -> None:
    sent = sms.send(caller)
    clock.shift(301)

    with pytest.raises(CodeExpired):
        sms.check(caller, sent.subject, wrong(sent.code))
    assert user_state(caller.user).failed_attempts == 0


def test_a_policy_ttl_change_applies_to_the_next_code(
    sms: Any, caller: Any, clock: Any, default_tenant: Any
) -> None:
    before = sms.send(caller)
    policy = TenantPolicy.objects.get(tenant=default_tenant)
    policy.code_ttl_seconds = 60
    policy.save()

    after = sms.send(caller)

    assert after.sms_code.expires_at == after.sms_code.created_at + timedelta(seconds=60)
    clock.shift(60)
    with pytest.raises(CodeExpired):
        sms.check(caller, after.subject, after.code)
    # The code issued before the change keeps the life it was given.
    assert sms.check(caller, before.subject, before.code).pk == before.sms_code.pk
