"""``manage.py intelliauth_sms_sendtest +E164``: send a test SMS through the configured backend
and print the provider's answer (its message id, or the classified error)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from intelliauth_sms.backends import OutgoingSms, SmsBackendError, get_backend, send_with_failover
from intelliauth_sms.exceptions import InvalidPhoneNumber
from intelliauth_sms.phone import mask_last4, parse_e164

#: The whole text of the test SMS: fixed, and never a code.
TEST_TEXT = "intelliauth-sms test message: your SMS provider is set up. No action is needed."


class Command(BaseCommand):
    help = (
        "Send a test SMS (a fixed text, no code) to an E.164 number through SMS_BACKEND, "
        "with the failover of a list, or through --backend, and print the provider's answer. "
        "It bypasses the sending policy: no limit is counted and no message row is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="The destination in E.164 form, e.g. +14155550100.")
        parser.add_argument(
            "--backend",
            help="Dotted path of one backend to try, instead of the SMS_BACKEND setting.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            phone = parse_e164(options["number"])
        except InvalidPhoneNumber as exc:
            raise CommandError(
                "The number is not a valid E.164 number, such as +14155550100."
            ) from exc
        sms = OutgoingSms(to=phone.e164, body=TEST_TEXT, message_id=f"sendtest-{uuid.uuid4()}")
        path = options.get("backend")
        try:
            provider_id = get_backend(path).send(sms) if path else send_with_failover(sms)
        except SmsBackendError as exc:
            raise CommandError(f"Not sent to {mask_last4(phone.last4)}: {exc.describe()}") from exc
        except ImproperlyConfigured as exc:
            raise CommandError(f"Not sent: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Sent to {mask_last4(phone.last4)}; provider message id: {provider_id or '-'}"
            )
        )
