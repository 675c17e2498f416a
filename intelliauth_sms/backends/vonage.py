"""Vonage SMS API (``pip install intelliauth-sms[vonage]``).

``INTELLIAUTH_SMS["VONAGE"] = {"API_KEY", "API_SECRET", "FROM", "API_URL", "TIMEOUT",
"SIGNATURE_SECRET", "SIGNATURE_METHOD"}`` (the last two verify signed delivery receipts at
``webhooks/vonage/status/``).
"""

from __future__ import annotations

from intelliauth_sms.backends.base import OutgoingSms
from intelliauth_sms.backends.http import HttpAnswer, HttpRequest, HttpSmsBackend


class SmsBackend(HttpSmsBackend):
    """``POST {API_URL}/sms/json``. Vonage answers 200 with a ``status`` per message part;
    the first part's ``message-id`` is the provider message id."""

    settings_key = "VONAGE"
    required_settings = ("API_KEY", "API_SECRET", "FROM")
    defaults = {"API_URL": "https://rest.nexmo.com", "TIMEOUT": 10}
    # Throttled, internal error, too many binds: https://developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms
    transient_codes = frozenset({"1", "5", "10"})
    permanent_codes = frozenset({"2", "3", "4", "6", "7", "8", "9", "11", "12", "14", "15"})
    error_messages = {
        "1": "throttled",
        "2": "a required parameter is missing",
        "3": "invalid parameters (the 'to' number?)",
        "4": "authentication failed (API_KEY / API_SECRET)",
        "5": "Vonage internal error",
        "6": "the destination cannot be routed",
        "7": "the number is barred",
        "9": "the account's quota is spent",
        "15": "invalid sender ('FROM')",
        "29": "the destination is not on the account's allowed list",
        "33": "the number is de-activated",
    }

    def build_request(self, sms: OutgoingSms) -> HttpRequest:
        config = self.config
        fields = {
            "api_key": str(config["API_KEY"]),
            "api_secret": str(config["API_SECRET"]),
            "from": str(config["FROM"]),
            # Vonage takes the international number without its "+".
            "to": sms.to.removeprefix("+"),
            "text": sms.body,
        }
        if sms.message_id:
            # Comes back in the delivery receipt.
            fields["client-ref"] = sms.message_id
        if not sms.body.isascii():
            # Translated texts (accents) need Vonage's unicode type to arrive intact.
            fields["type"] = "unicode"
        return HttpRequest(url=f"{str(config['API_URL']).rstrip('/')}/sms/json", fields=fields)

    def parse_answer(self, answer: HttpAnswer) -> str:
        messages = answer.data.get("messages") or [{}]
        first = messages[0] if isinstance(messages[0], dict) else {}
        code = str(first.get("status", ""))
        if 200 <= answer.status < 300 and code == "0" and first.get("message-id"):
            return str(first["message-id"])
        raise self.error(status=answer.status, provider_code=code)
