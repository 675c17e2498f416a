"""Security notices: content, recipient, retry with backoff, audited failure (issue 8)."""

from __future__ import annotations

from smtplib import SMTPServerDisconnected
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from intelliauth_sms.models import AuditEvent, SmsFactor, TenantPolicy
from intelliauth_sms.services.notifications import approximate_origin
from intelliauth_sms.tasks import EMAIL_MAX_BACKOFF, EMAIL_MAX_RETRIES, email_retry_delay
from tests.api import enrol
from tests.conftest import last_code
from tests.recovery import finish, start


class FlakyBackend(EmailBackend):
    """Refuses the first ``failures`` sends the way an SMTP server going away does."""

    failures = 0
    attempts = 0

    def send_messages(self, messages: Any) -> int:
        FlakyBackend.attempts += 1
        if FlakyBackend.attempts <= FlakyBackend.failures:
            raise SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings: Any) -> type[FlakyBackend]:
    settings.EMAIL_BACKEND = "tests.recovery.test_recovery_emails.FlakyBackend"
    FlakyBackend.failures = 0
    FlakyBackend.attempts = 0
    return FlakyBackend


def test_a_recovery_sms_emails_the_user_with_time_origin_and_masked_number(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, user: Any
) -> None:
    anon_api.defaults["REMOTE_ADDR"] = "203.0.113.77"
    assert start(anon_api).status_code == 202

    (notice,) = mail.outbox
    assert notice.to == [user.email]
    assert notice.subject == "An account recovery code was sent to your backup phone"
    assert "•••• 3456" in notice.body and "203.0.113.0/24" in notice.body
    assert "203.0.113.77" not in notice.body
    assert "If this wasn't you" in notice.body
    assert " UTC" in notice.body and ".." not in notice.body
    html, mime = notice.alternatives[0]
    assert mime == "text/html" and "•••• 3456" in html and "203.0.113.0/24" in html
    assert "7911123456" not in notice.body + html
    sent = AuditEvent.objects.get(event_type="email_sent")
    assert (sent.is_recovery, sent.user_id, sent.detail["notice"]) == (
        True,
        user.pk,
        "recovery_requested",
    )


def test_completing_recovery_emails_the_user(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any]
) -> None:
    recovery_id = start(anon_api).json()["id"]
    assert finish(anon_api, recovery_id, last_code(outbox)).status_code == 200
    assert [m.subject for m in mail.outbox] == [
        "An account recovery code was sent to your backup phone",
        "Your account was recovered",
    ]
    assert "Set up the phone you sign in with again" in mail.outbox[1].body


def test_a_notice_refused_by_smtp_is_retried_and_then_sent_once(
    flaky: type[FlakyBackend], anon_api: Any, policy: TenantPolicy, backup: SmsFactor
) -> None:
    flaky.failures = 2
    assert start(anon_api).status_code == 202
    assert flaky.attempts == 3
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.get(event_type="email_sent").detail["attempts"] == 3
    assert not AuditEvent.objects.filter(event_type="email_failed").exists()


def test_a_notice_that_never_goes_out_is_audited_and_never_blocks_recovery(
    flaky: type[FlakyBackend],
    anon_api: Any,
    policy: TenantPolicy,
    backup: SmsFactor,
    outbox: list[Any],
) -> None:
    flaky.failures = 1000
    response = start(anon_api)
    assert response.status_code == 202, response.content
    assert flaky.attempts == EMAIL_MAX_RETRIES + 1
    failed = AuditEvent.objects.get(event_type="email_failed")
    assert (failed.outcome, failed.is_recovery) == ("failure", True)
    assert failed.detail == {
        "notice": "recovery_requested",
        "attempts": EMAIL_MAX_RETRIES + 1,
        "error": "SMTPServerDisconnected",
    }
    # The recovery itself goes on.
    assert finish(anon_api, response.json()["id"], last_code(outbox)).status_code == 200


def test_factor_notices_use_the_same_retry_path_and_read_well(
    flaky: type[FlakyBackend], api: Any, outbox: list[Any]
) -> None:
    flaky.failures = 1
    enrol(api, outbox)
    (notice,) = mail.outbox
    assert notice.subject == "A phone number was added to your account"
    assert ".." not in notice.body and "UTC." in notice.body
    assert AuditEvent.objects.get(event_type="email_sent").detail["attempts"] == 2


def test_retry_delays_grow_with_jitter_up_to_the_cap() -> None:
    for retries in range(8):
        base = min(EMAIL_MAX_BACKOFF, 30 * 2**retries)
        delays = {email_retry_delay(retries) for _ in range(50)}
        assert all(base // 2 <= d <= base for d in delays)
        assert len(delays) > 1  # jittered
    assert max(email_retry_delay(20) for _ in range(20)) <= EMAIL_MAX_BACKOFF


@pytest.mark.parametrize(
    ("ip", "shown"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        (None, "an unknown address"),
        ("garbage", "an unknown address"),
    ],
)
def test_the_origin_is_approximate(ip: str | None, shown: str) -> None:
    assert approximate_origin(ip) == shown
