"""Delivery status webhooks: only a valid, fresh provider signature changes anything, and
statuses only move forward."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client as DjangoClient

from intelliauth_sms.api.webhooks import twilio_signature, vonage_signature
from intelliauth_sms.models import AuditEvent, EventType, MessageStatus, Outcome, SmsMessage
from intelliauth_sms.services import enrolment

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


class Client(DjangoClient):
    """Posts form-encoded bodies, as Twilio and Vonage do (Django's default is multipart)."""

    def post(self, path: str, data: Any = None, content_type: str = FORM, **extra: Any) -> Any:
        if content_type == FORM:
            data = urlencode(data or {}, doseq=True)
        return super().post(path, data, content_type=content_type, **extra)


TWILIO_URL = "/api/mfa/sms/webhooks/twilio/status/"
VONAGE_URL = "/api/mfa/sms/webhooks/vonage/status/"
TOKEN = "twilio-auth-token"
SECRET = "vonage-signature-secret"


@pytest.fixture
def providers(settings: Any) -> Any:
    settings.INTELLIAUTH_SMS = {
        **settings.INTELLIAUTH_SMS,
        "TWILIO": {"ACCOUNT_SID": "AC1", "AUTH_TOKEN": TOKEN, "FROM": "+15005550006"},
        "VONAGE": {"API_KEY": "k", "API_SECRET": "s", "FROM": "Acme", "SIGNATURE_SECRET": SECRET},
    }
    return settings


@pytest.fixture
def sent(user: Any, django_capture_on_commit_callbacks: Any) -> SmsMessage:
    """A message the provider accepted as ``SM123``."""
    with django_capture_on_commit_callbacks(execute=True):
        _pending, issued = enrolment.start_enrolment(user, "+14155550100")
    SmsMessage.objects.filter(pk=issued.message.pk).update(provider_message_id="SM123")
    message = SmsMessage.objects.get(pk=issued.message.pk)
    assert message.status == MessageStatus.SENT
    return message


def twilio_callback(
    status: str,
    *,
    signature: str | None = None,
    url: str = "http://testserver" + TWILIO_URL,
    **extra: str,
) -> Any:
    params = {"MessageSid": "SM123", "MessageStatus": status, "AccountSid": "AC1", **extra}
    if signature is None:
        signature = twilio_signature(TOKEN, url, {k: [v] for k, v in params.items()})
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return Client().post(TWILIO_URL, params, **headers)


def reports() -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            event_type__in=[EventType.SMS_DELIVERED, EventType.SMS_UNDELIVERED]
        )
    )


def status_of(message: SmsMessage) -> tuple[str, str]:
    message.refresh_from_db()
    return message.status, message.provider_error


# --- the signature algorithm ------------------------------------------------------------------


def test_the_twilio_signature_is_the_documented_hmac_sha1() -> None:
    # Twilio's documented example (https://www.twilio.com/docs/usage/security).
    params = {
        "CallSid": ["CA1234567890ABCDE"],
        "Caller": ["+12349013030"],
        "Digits": ["1234"],
        "From": ["+12349013030"],
        "To": ["+18005551212"],
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"

    assert twilio_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_the_vonage_signatures_follow_the_documented_construction() -> None:
    params = {"b": "x=y", "a": "1&2", "sig": "ignored"}
    query = "&a=1_2&b=x_y"

    md5 = hashlib.md5(b"&a=1_2&b=x_ys", usedforsecurity=False).hexdigest()
    assert vonage_signature("s", "md5hash", params) == md5
    assert (
        vonage_signature("s", "sha256", params)
        == hmac.new(b"s", query.encode(), hashlib.sha256).hexdigest()
    )


# --- Twilio ----------------------------------------------------------------------------------


def test_a_valid_delivered_callback_moves_the_message_and_is_audited(
    providers: Any, sent: SmsMessage
) -> None:
    response = twilio_callback("delivered")

    assert response.status_code == 204
    assert status_of(sent) == (MessageStatus.DELIVERED, "")
    (event,) = reports()
    assert (event.event_type, event.outcome, event.phone_last4) == (
        EventType.SMS_DELIVERED,
        Outcome.SUCCESS,
        "0100",
    )
    assert event.user_id == sent.user_id and event.tenant_id == sent.tenant_id


@pytest.mark.parametrize(
    ("twilio_status", "expected"),
    [("undelivered", MessageStatus.UNDELIVERED), ("failed", MessageStatus.FAILED)],
)
def test_an_undelivered_callback_records_twilios_error_code(
    providers: Any, sent: SmsMessage, twilio_status: str, expected: str
) -> None:
    assert twilio_callback(twilio_status, ErrorCode="30003").status_code == 204

    assert status_of(sent) == (expected, "30003")
    (event,) = reports()
    assert event.outcome == Outcome.FAILURE and event.detail["provider_error"] == "30003"


@pytest.mark.parametrize(
    "signature",
    ["", "bm90IHRoZSBzaWduYXR1cmU=", twilio_signature("wrong-token", "http://testserver/", {})],
    ids=["missing", "forged", "wrong-key"],
)
def test_a_missing_or_forged_signature_is_refused_and_changes_nothing(
    providers: Any, sent: SmsMessage, signature: str
) -> None:
    response = twilio_callback("delivered", signature=signature)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert status_of(sent) == (MessageStatus.SENT, "") and reports() == []


def test_a_tampered_parameter_breaks_the_signature(providers: Any, sent: SmsMessage) -> None:
    url = "http://testserver" + TWILIO_URL
    params = {"MessageSid": "SM123", "MessageStatus": "delivered", "AccountSid": "AC1"}
    signature = twilio_signature(TOKEN, url, {k: [v] for k, v in params.items()})

    response = Client().post(
        TWILIO_URL, {**params, "MessageStatus": "failed"}, HTTP_X_TWILIO_SIGNATURE=signature
    )

    assert response.status_code == 403 and status_of(sent)[0] == MessageStatus.SENT


def test_a_replayed_callback_is_refused(providers: Any, sent: SmsMessage) -> None:
    assert twilio_callback("delivered").status_code == 204

    replay = twilio_callback("delivered")

    assert replay.status_code == 403 and replay.json()["error"]["code"] == "invalid_signature"
    assert len(reports()) == 1


def test_a_late_sent_after_delivered_changes_nothing(providers: Any, sent: SmsMessage) -> None:
    assert twilio_callback("delivered").status_code == 204
    assert twilio_callback("sent").status_code == 204
    assert twilio_callback("undelivered", ErrorCode="30005").status_code == 204

    assert status_of(sent) == (MessageStatus.DELIVERED, "") and len(reports()) == 1


def test_the_status_callback_setting_is_the_signed_url(providers: Any, sent: SmsMessage) -> None:
    public = "https://sms.example.com/api/mfa/sms/webhooks/twilio/status/"
    providers.INTELLIAUTH_SMS["TWILIO"]["STATUS_CALLBACK"] = public

    assert twilio_callback("delivered").status_code == 403  # signed for the internal URL
    assert twilio_callback("delivered", url=public).status_code == 204


def test_without_an_auth_token_every_callback_is_refused(settings: Any, sent: SmsMessage) -> None:
    assert twilio_callback("delivered").status_code == 403


def test_an_unknown_message_is_acknowledged_and_changes_nothing(
    providers: Any, sent: SmsMessage
) -> None:
    assert twilio_callback("delivered", MessageSid="SM-unknown").status_code == 204
    assert status_of(sent)[0] == MessageStatus.SENT and reports() == []


def test_an_unknown_message_s_report_is_tried_by_its_task_and_dropped(
    providers: Any,
    sent: SmsMessage,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="intelliauth_sms.tasks")
    # Run eagerly, the task and each of its retries run at once and find no such message.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert twilio_callback("delivered", MessageSid="SM-unknown").status_code == 204

    assert len(callbacks) == 1
    assert "Delivery report for SM-unknown dropped" in caplog.text
    assert status_of(sent)[0] == MessageStatus.SENT and reports() == []


def test_the_request_flood_guard_does_not_drop_receipts(providers: Any, sent: SmsMessage) -> None:
    providers.INTELLIAUTH_SMS["REQUEST_RATE"] = "1/m"

    responses = [twilio_callback(s).status_code for s in ("queued", "sending", "sent", "delivered")]

    assert responses == [204, 204, 204, 204]
    assert status_of(sent)[0] == MessageStatus.DELIVERED


def test_other_methods_answer_json(providers: Any) -> None:
    response = Client().get(TWILIO_URL)

    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


# --- Vonage ----------------------------------------------------------------------------------


def vonage_receipt(
    status: str, *, method: str = "md5hash", secret: str = SECRET, json: bool = False, **extra: str
) -> Any:
    params = {
        "messageId": "SM123",
        "status": status,
        "err-code": "0",
        "msisdn": "14155550100",
        "timestamp": str(int(time.time())),
        "nonce": "d1c6b0f4",
        **extra,
    }
    if "sig" not in extra:
        params["sig"] = vonage_signature(secret, method, params)
    if json:
        return Client().post(VONAGE_URL, params, content_type="application/json")
    return Client().post(VONAGE_URL, params)


def test_a_signed_vonage_receipt_moves_the_message(providers: Any, sent: SmsMessage) -> None:
    assert vonage_receipt("delivered").status_code == 204

    assert status_of(sent) == (MessageStatus.DELIVERED, "")
    assert reports()[0].detail["provider"] == "vonage"


@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
def test_each_vonage_hmac_method_verifies_in_either_case(
    providers: Any, sent: SmsMessage, method: str
) -> None:
    providers.INTELLIAUTH_SMS["VONAGE"]["SIGNATURE_METHOD"] = method
    params = {"messageId": "SM123", "status": "failed", "err-code": "6"}
    params["timestamp"] = str(int(time.time()))
    upper = vonage_signature(SECRET, method, params).upper()  # Vonage sends HMACs upper-case

    assert Client().post(VONAGE_URL, {**params, "sig": upper}).status_code == 204
    assert status_of(sent) == (MessageStatus.UNDELIVERED, "6")


def test_a_json_vonage_receipt_is_accepted(providers: Any, sent: SmsMessage) -> None:
    assert vonage_receipt("rejected", json=True, **{"err-code": "3"}).status_code == 204
    assert status_of(sent) == (MessageStatus.FAILED, "3")


@pytest.mark.parametrize(
    "extra",
    [{"sig": ""}, {"sig": "0" * 32}, {"timestamp": str(int(time.time()) - 3600)}],
    ids=["missing", "forged", "stale"],
)
def test_a_bad_vonage_receipt_is_refused(
    providers: Any, sent: SmsMessage, extra: dict[str, str]
) -> None:
    response = vonage_receipt("delivered", **extra)

    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_signature"
    assert status_of(sent)[0] == MessageStatus.SENT


def test_a_vonage_receipt_signed_with_another_secret_is_refused(
    providers: Any, sent: SmsMessage
) -> None:
    assert vonage_receipt("delivered", secret="other").status_code == 403


def test_a_replayed_vonage_receipt_is_refused(providers: Any, sent: SmsMessage) -> None:
    params = {"messageId": "SM123", "status": "delivered", "timestamp": str(int(time.time()))}
    params["sig"] = vonage_signature(SECRET, "md5hash", params)

    assert Client().post(VONAGE_URL, params).status_code == 204
    assert Client().post(VONAGE_URL, params).status_code == 403
    assert len(reports()) == 1


def test_without_a_signature_secret_vonage_receipts_are_refused(
    settings: Any, sent: SmsMessage
) -> None:
    assert vonage_receipt("delivered").status_code == 403


# --- signatures that are not ASCII (found by the openapi tier's schemathesis run) -------------


def test_a_twilio_signature_with_non_ascii_characters_is_refused_not_a_server_error(
    providers: Any, sent: SmsMessage
) -> None:
    # WSGI hands headers over as latin-1; hmac.compare_digest refuses to compare such text.
    response = twilio_callback("delivered", signature="sïgnature\x9d")

    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_signature"
    assert status_of(sent)[0] == MessageStatus.SENT


@pytest.mark.parametrize(
    "extra",
    [{"sig": "\x9d"}, {"sig": "é" * 32}, {"nonce": "\ud9a8", "sig": "0" * 32}],
    ids=["non-ascii-sig", "non-ascii-sig-right-length", "lone-surrogate-in-a-value"],
)
def test_a_json_vonage_receipt_with_text_that_is_not_ascii_is_refused(
    providers: Any, sent: SmsMessage, extra: dict[str, str]
) -> None:
    # JSON may carry any text, lone surrogates (\\ud9a8) included, which UTF-8 cannot encode.
    response = vonage_receipt("delivered", json=True, **extra)

    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_signature"
    assert status_of(sent)[0] == MessageStatus.SENT
