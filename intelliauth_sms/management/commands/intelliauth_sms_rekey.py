"""``manage.py intelliauth_sms_rekey``: after rotating FIELD_ENCRYPTION_KEY or HASH_KEY."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from intelliauth_sms.services.rekeying import rekey_numbers


class Command(BaseCommand):
    help = (
        "Re-encrypt stored phone numbers with the first FIELD_ENCRYPTION_KEY and recompute "
        "their lookup hashes with the current HASH_KEY."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = rekey_numbers()
        self.stdout.write(
            f"factors: {report.factors}, pending enrolments: {report.enrolments}, "
            f"queued messages: {report.messages}"
        )
        if report.unreadable:
            raise CommandError(
                f"{report.unreadable} stored numbers could not be decrypted with any "
                "FIELD_ENCRYPTION_KEY and were left unchanged: put the old key back in the "
                "list (after the new one) and run the command again."
            )
