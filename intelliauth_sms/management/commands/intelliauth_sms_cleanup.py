"""``manage.py intelliauth_sms_cleanup``: run daily (cron or Celery beat)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from intelliauth_sms.services.housekeeping import clean_up


class Command(BaseCommand):
    help = "Delete stale pending enrolments and old expired sign-in flows."

    def handle(self, *args: Any, **options: Any) -> None:
        report = clean_up()
        self.stdout.write(
            f"flows deleted: {report.flows_deleted}, enrolments deleted: "
            f"{report.enrolments_deleted}, destinations cleared: {report.destinations_cleared}, "
            f"locks deleted: {report.locks_deleted}"
        )
