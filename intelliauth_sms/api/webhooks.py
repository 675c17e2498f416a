"""Delivery status webhooks: Twilio's status callback and Vonage's delivery receipt.

Each request is authenticated by the provider's signature before anything else runs; a
missing, wrong or replayed signature answers 403 ``invalid_signature`` and changes nothing.
A valid report moves the message forward (``services.delivery_status``) and answers 204.

The API's per-IP flood guard (``REQUEST_RATE``) does not apply here: a provider sends every
site's receipts from a handful of addresses, in bursts as large as the site's own sends, and
a receipt refused with 429 is not sent again, so the guard would lose receipts exactly
when traffic is highest. A forged flood costs one HMAC per request (no query, no audit
row), which is cheaper than the guard's own cache round trip.

Replays: a verified signature is remembered in the shared cache (the flood guard's,
``RATELIMIT_USE_CACHE``) for ``REPLAY_WINDOW_SECONDS``, and a second request carrying it is
refused. Older replays change nothing either: statuses only move forward.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from intelliauth_sms.api.errors import exception_handler
from intelliauth_sms.conf import app_settings
from intelliauth_sms.exceptions import InvalidSignature
from intelliauth_sms.models import MessageStatus
from intelliauth_sms.services.delivery_status import record_delivery_report

logger = logging.getLogger("intelliauth_sms.webhooks")

#: How long a verified signature is remembered to refuse its replay.
REPLAY_WINDOW_SECONDS = 24 * 60 * 60
#: Vonage's documented tolerance for a signed request's ``timestamp``.
VONAGE_TIMESTAMP_TOLERANCE_SECONDS = 5 * 60

# https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
TWILIO_STATUSES = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
}
# https://developer.vonage.com/en/messaging/sms/guides/delivery-receipts
VONAGE_STATUSES = {
    "accepted": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "expired": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.UNDELIVERED,
    "rejected": MessageStatus.FAILED,
}
# Vonage's signature methods (dashboard setting): "md5hash" is MD5 over the string and the
# secret; the others are HMACs keyed with the secret.
VONAGE_HMACS: Mapping[str, Callable[[], Any]] = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}


def twilio_signature(auth_token: str, url: str, params: Mapping[str, list[str]]) -> str:
    """Twilio's ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed with the auth token, of the
    URL followed by each POST parameter's name and value, sorted by name (then value)."""
    data = url + "".join(
        name + value for name in sorted(params) for value in sorted(set(params[name]))
    )
    digest = hmac.new(auth_token.encode(), _utf8(data), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def vonage_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """Vonage's ``sig`` over ``params`` (``sig`` itself left out): ``&name=value`` for each
    parameter sorted by name, ``&`` and ``=`` in values replaced by ``_``; lower-case hex."""
    query = "".join(
        f"&{name}={params[name].replace('&', '_').replace('=', '_')}"
        for name in sorted(params)
        if name != "sig"
    )
    if method == "md5hash":
        # Not a security choice of ours: it is Vonage's default signing method.
        return hashlib.md5(_utf8(query + secret), usedforsecurity=False).hexdigest()
    return hmac.new(secret.encode(), _utf8(query), VONAGE_HMACS[method]).hexdigest()


def _utf8(text: str) -> bytes:
    # A JSON body may carry lone surrogates ("\ud9a8"), which strict UTF-8 cannot encode.
    # Kept as they came, they only make a signature no provider sent, which is refused.
    return text.encode("utf-8", "surrogatepass")


def signature_matches(expected: str, given: str) -> bool:
    """Constant-time comparison of an ASCII signature with one from the request.

    ``hmac.compare_digest`` raises ``TypeError`` for text that is not ASCII, which a header
    (latin-1 over WSGI) or a JSON body may be: such a signature simply does not match.
    """
    return given.isascii() and hmac.compare_digest(expected, given)


def _report_once(
    provider: str, signature: str, message_id: str, message_status: MessageStatus | None, error: str
) -> None:
    """Apply a verified report unless its signature was seen before (a replay).

    The signature is remembered before the report is applied, so two copies arriving at
    once cannot both pass; it is forgotten again if applying fails, so the provider's
    retry of a report that was never applied is not taken for a replay.
    """
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    key = f"intelliauth_sms:webhook:{provider}:{hashlib.sha256(signature.encode()).hexdigest()}"
    if not cache.add(key, 1, REPLAY_WINDOW_SECONDS):
        raise _refuse(provider, "a replayed signature")
    if message_status is None:
        return  # a status we do not track (queued, buffered, …)
    try:
        record_delivery_report(message_id, message_status, provider_error=error, provider=provider)
    except BaseException:
        cache.delete(key)
        raise


def _refuse(provider: str, why: str) -> InvalidSignature:
    # No audit event: a forged request belongs to no user or tenant, and a flood of them
    # must not be able to fill the audit trail. The log line says why.
    logger.warning("%s webhook refused: %s", provider, why)
    return InvalidSignature()


class WebhookView(APIView):
    """A provider's callback: no session, no CSRF (the signature is the credential), no
    flood guard (see the module's docstring), the contract's error body."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    parser_classes = [FormParser, JSONParser]

    def get_exception_handler(self) -> Any:
        return exception_handler


class TwilioStatusView(WebhookView):
    """POST ``webhooks/twilio/status/``: Twilio's form-encoded status callback."""

    parser_classes = [FormParser]

    def post(self, request: Request) -> Response:
        config = app_settings.TWILIO
        token = str(config.get("AUTH_TOKEN") or "")
        given = request.headers.get("X-Twilio-Signature", "")
        if not token or not given:
            raise _refuse("twilio", "no auth token configured" if given else "no signature")
        form = request._request.POST  # form-encoded only (``parser_classes``)
        params = {name: form.getlist(name) for name in form}
        # Twilio signs the URL it called: the one the send asked for, when it did.
        url = str(config.get("STATUS_CALLBACK") or request.build_absolute_uri())
        if not signature_matches(twilio_signature(token, url, params), given):
            raise _refuse("twilio", "the signature does not match")
        _report_once(
            "twilio",
            given,
            form.get("MessageSid", ""),
            TWILIO_STATUSES.get(form.get("MessageStatus", "")),
            form.get("ErrorCode") or "",
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class VonageStatusView(WebhookView):
    """POST ``webhooks/vonage/status/``: a signed Vonage delivery receipt (form or JSON)."""

    def post(self, request: Request) -> Response:
        config = app_settings.VONAGE
        secret = str(config.get("SIGNATURE_SECRET") or "")
        method = str(config.get("SIGNATURE_METHOD") or "md5hash").lower()
        data = request.data
        if not isinstance(data, Mapping):
            raise _refuse("vonage", "the body is not an object")
        params = {str(k): str(v) for k, v in data.items()}
        given = params.get("sig", "")
        if not secret or not given or (method != "md5hash" and method not in VONAGE_HMACS):
            raise _refuse("vonage", "no signature, or no signature secret configured")
        expected = vonage_signature(secret, method, params)
        if not signature_matches(expected, given.lower()):
            raise _refuse("vonage", "the signature does not match")
        try:
            age = abs(timezone.now().timestamp() - int(params.get("timestamp", "")))
        except ValueError:
            raise _refuse("vonage", "no timestamp") from None
        if age > VONAGE_TIMESTAMP_TOLERANCE_SECONDS:
            raise _refuse("vonage", "the timestamp is too old")
        error = params.get("err-code", "")
        _report_once(
            "vonage",
            expected,
            params.get("messageId", ""),
            VONAGE_STATUSES.get(params.get("status", "")),
            "" if error in ("", "0") else error,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
