"""Housekeeping deletes stale enrolments and old flows, and keeps what limits and audit need."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import time_machine
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import AuthFlow, PendingEnrolment, SmsMessage
from intelliauth_sms.services.enrolment import start_enrolment


def test_cleanup_deletes_a_day_old_unfinished_enrolment_but_keeps_its_send_record(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        start_enrolment(user, "+14155550100")
    fresh_user_enrolment_count = PendingEnrolment.objects.count()

    call_command("intelliauth_sms_cleanup", stdout=StringIO())
    assert PendingEnrolment.objects.count() == fresh_user_enrolment_count == 1

    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1), tick=False):
        out = StringIO()
        call_command("intelliauth_sms_cleanup", stdout=out)
    assert PendingEnrolment.objects.count() == 0
    assert SmsMessage.objects.count() == 1
    assert "enrolments deleted: 1" in out.getvalue()


def test_cleanup_deletes_flows_a_week_after_they_expired(user: Any) -> None:
    flow = start_flow(user)
    with time_machine.travel(flow.expires_at + timedelta(days=6), tick=False):
        call_command("intelliauth_sms_cleanup", stdout=StringIO())
    assert AuthFlow.objects.filter(pk=flow.pk).exists()
    with time_machine.travel(flow.expires_at + timedelta(days=7, seconds=1), tick=False):
        call_command("intelliauth_sms_cleanup", stdout=StringIO())
    assert not AuthFlow.objects.filter(pk=flow.pk).exists()


def test_cleanup_deletes_ip_lock_rows_and_the_next_send_recreates_them(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from intelliauth_sms.crypto import phone_hash
    from intelliauth_sms.models import SendLock
    from intelliauth_sms.services.context import Caller
    from intelliauth_sms.services.enrolment import resend_enrolment_code
    from intelliauth_sms.services.locks import destination_lock_key, ip_lock_key

    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.9")
    with django_capture_on_commit_callbacks(execute=True):
        enrolment, _ = start_enrolment(user, "+14155550100", request=request)
    assert Caller.for_user(user, request).ip == "203.0.113.9"
    keys = set(SendLock.objects.values_list("key", flat=True))
    assert keys == {
        ip_lock_key("203.0.113.9"),
        destination_lock_key(phone_hash("+14155550100")),
    }
    assert all("203.0.113.9" not in key and "4155550100" not in key for key in keys)

    out = StringIO()
    call_command("intelliauth_sms_cleanup", stdout=out)
    assert SendLock.objects.count() == 0 and "locks deleted: 2" in out.getvalue()

    with django_capture_on_commit_callbacks(execute=True):
        resend_enrolment_code(user, enrolment.id, request=request)
    assert SendLock.objects.count() == 2
