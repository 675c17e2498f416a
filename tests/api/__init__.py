"""HTTP API tests (CONTRACT §3), with the helpers the three modules share."""

from __future__ import annotations

import re
from typing import Any

from intelliauth_sms.models import (
    AuditEvent,
    PendingEnrolment,
    SmsCode,
    SmsFactor,
    SmsMessage,
    SmsUserState,
)
from tests.conftest import last_code

BASE = "/api/mfa/sms/"
PHONE = "+14155550100"
LATEST_CODE_COPY = "Make sure you typed the latest code. Codes expire after 5 minutes."
EXAMPLE_NUMBER_COPY = "for example +14155550100."


def enrolments_url() -> str:
    return f"{BASE}enrolments/"


def resend_url(enrolment_id: object) -> str:
    return f"{BASE}enrolments/{enrolment_id}/resend/"


def complete_url(enrolment_id: object) -> str:
    return f"{BASE}enrolments/{enrolment_id}/complete/"


def factors_url() -> str:
    return f"{BASE}factors/"


def factor_url(factor_id: object) -> str:
    return f"{BASE}factors/{factor_id}/"


def reveal_url(factor_id: object) -> str:
    return f"{BASE}factors/{factor_id}/reveal/"


def start(api: Any, phone: str = PHONE, **extra: Any) -> Any:
    """POST ``enrolments/`` with a JSON body."""
    return api.post(enrolments_url(), {"phone_number": phone, **extra}, format="json")


def complete(api: Any, enrolment_id: object, code: object) -> Any:
    return api.post(complete_url(enrolment_id), {"code": code}, format="json")


def resend(api: Any, enrolment_id: object) -> Any:
    return api.post(resend_url(enrolment_id), {}, format="json")


def start_ok(api: Any, outbox: list[Any], phone: str = PHONE, **extra: Any) -> tuple[str, str]:
    """Start an enrolment that must succeed; return its id and the code sent."""
    response = start(api, phone, **extra)
    assert response.status_code == 201, response.content
    return response.json()["id"], last_code(outbox)


def enrol(api: Any, outbox: list[Any], phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    """Enrol ``phone`` end to end; return the ``factor`` object of the response."""
    enrolment_id, code = start_ok(api, outbox, phone, **extra)
    response = complete(api, enrolment_id, code)
    assert response.status_code == 201, response.content
    return dict(response.json()["factor"])


def wrong(code: str) -> str:
    """A well-formed code that is certainly not ``code``."""
    return f"{(int(code) + 1) % 10**6:06d}"


def digits_of(text: str) -> list[str]:
    return re.findall(r"\d", text)


def assert_masked(masked: str, phone: str) -> None:
    """The masked form shows the last 4 digits and no other digit."""
    assert isinstance(masked, str)
    assert masked.endswith(phone[-4:])
    assert digits_of(masked) == list(phone[-4:])


def assert_no_secrets(
    response: Any, phones: tuple[str, ...] = (PHONE,), codes: tuple[str, ...] = ()
) -> None:
    """No more of a number than its last 4 digits, and no code, in the response."""
    # The app's own copy for a bad number quotes the guide's example, which is also PHONE.
    text = response.content.decode("utf-8", "replace").replace(EXAMPLE_NUMBER_COPY, "")
    for phone in phones:
        digits = phone.lstrip("+")
        for length in range(5, len(digits) + 1):
            assert digits[-length:] not in text, f"{digits[-length:]!r} leaked: {text}"
    for code in codes:
        assert code not in text, f"code leaked: {text}"


def assert_error(
    response: Any,
    status: int,
    code: str,
    *,
    extra: frozenset[str] | set[str] = frozenset(),
    phones: tuple[str, ...] = (PHONE,),
    codes: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The contract's error body, exactly: ``{"error": {"code", "message", *extra}}``."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", *extra}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    assert_no_secrets(response, phones, codes)
    return dict(error)


def snapshot(outbox: list[Any]) -> dict[str, int]:
    """Counts of everything a request could create or send."""
    return {
        "enrolments": PendingEnrolment.objects.count(),
        "completed": PendingEnrolment.objects.filter(completed_at__isnull=False).count(),
        "factors": SmsFactor.objects.count(),
        "messages": SmsMessage.objects.count(),
        "codes": SmsCode.objects.count(),
        "active_codes": SmsCode.objects.filter(state="active").count(),
        "reveals": AuditEvent.objects.filter(event_type="number_revealed").count(),
        "removals": AuditEvent.objects.filter(event_type="factor_removed").count(),
        "enrolled_events": AuditEvent.objects.filter(event_type="factor_enrolled").count(),
        "sms": len(outbox),
    }


def failed_attempts(user: Any) -> tuple[int, int]:
    """The user's (failed_attempts, consecutive_failures); (0, 0) before any state exists."""
    state = SmsUserState.objects.filter(user=user).first()
    return (0, 0) if state is None else (state.failed_attempts, state.consecutive_failures)
