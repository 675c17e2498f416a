"""Twilio Programmable Messaging (``pip install intelliauth-sms[twilio]``).

``INTELLIAUTH_SMS["TWILIO"] = {"ACCOUNT_SID", "AUTH_TOKEN", "FROM" or
"MESSAGING_SERVICE_SID", "STATUS_CALLBACK", "API_URL", "TIMEOUT"}`` (CONTRACT §4). Delivery
status comes back to ``webhooks/twilio/status/`` (``intelliauth_sms.api.webhooks``).
"""

from __future__ import annotations

import base64

from intelliauth_sms.backends.base import OutgoingSms
from intelliauth_sms.backends.http import HttpAnswer, HttpRequest, HttpSmsBackend


class SmsBackend(HttpSmsBackend):
    """``POST {API_URL}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json``; the ``sid`` of
    the answer is the provider message id."""

    settings_key = "TWILIO"
    required_settings = ("ACCOUNT_SID", "AUTH_TOKEN", ("FROM", "MESSAGING_SERVICE_SID"))
    defaults = {"API_URL": "https://api.twilio.com", "TIMEOUT": 10, "STATUS_CALLBACK": ""}
    # Twilio's "Too Many Requests" and its own outages, whatever status carries them.
    transient_codes = frozenset({"20429", "20500", "20503"})
    # https://www.twilio.com/docs/api/errors
    error_messages = {
        "20003": "authentication failed (ACCOUNT_SID / AUTH_TOKEN)",
        "20404": "unknown account or resource",
        "20429": "too many requests",
        "21211": "invalid 'To' number",
        "21408": "sending to this region is not enabled",
        "21610": "the recipient has opted out",
        "21612": "the destination cannot be reached from this sender",
        "21614": "the 'To' number is not a mobile number",
        "21606": "the 'From' number cannot send SMS",
        "21703": "the messaging service has no sender",
    }

    def build_request(self, sms: OutgoingSms) -> HttpRequest:
        config = self.config
        fields = {"To": sms.to, "Body": sms.body}
        if config.get("MESSAGING_SERVICE_SID"):
            fields["MessagingServiceSid"] = str(config["MESSAGING_SERVICE_SID"])
        else:
            fields["From"] = str(config["FROM"])
        if config.get("STATUS_CALLBACK"):
            fields["StatusCallback"] = str(config["STATUS_CALLBACK"])
        account = str(config["ACCOUNT_SID"])
        credentials = f"{account}:{config['AUTH_TOKEN']}".encode()
        return HttpRequest(
            url=f"{str(config['API_URL']).rstrip('/')}/2010-04-01/Accounts/{account}/Messages.json",
            fields=fields,
            headers={"Authorization": "Basic " + base64.b64encode(credentials).decode()},
        )

    def parse_answer(self, answer: HttpAnswer) -> str:
        sid = answer.data.get("sid")
        if 200 <= answer.status < 300 and sid:
            return str(sid)
        code = answer.data.get("code")
        raise self.error(status=answer.status, provider_code=str(code) if code else "")
