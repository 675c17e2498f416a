"""A prefix the SMS-pumping breaker paused answers ``destination_paused`` on every send path.

Enrolment, the sign-in step, step-up and recovery all send through the one gate (CONTRACT
§2, §3; issue 10): each answers 403 with the contract's body, sends nothing, and records
its own refusal event with the failure code. Another tenant's pause changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import (
    AuditEvent,
    FactorPurpose,
    PrefixBreaker,
    SmsMessage,
    Tenant,
    TenantPolicy,
)
from intelliauth_sms.services.pumping import prefix_hash, prefix_of
from tests.api import BASE, PHONE, assert_error, start
from tests.conftest import CommittingClient
from tests.factories import SmsFactorFactory, TenantFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory


def pause(tenant: Tenant, number: str = PHONE) -> PrefixBreaker:
    """Trip ``tenant``'s breaker for ``number``'s prefix, as 30 unverified sends would."""
    now = timezone.now()
    breaker: PrefixBreaker = PrefixBreaker.objects.create(
        tenant=tenant,
        prefix_hash=prefix_hash(number),
        prefix=prefix_of(number),
        tripped_at=now,
        paused_until=now + timedelta(minutes=60),
    )
    return breaker


@pytest.fixture
def tenant(db: Any) -> Tenant:
    return Tenant.objects.get(slug="default")


@pytest.fixture
def session_client(django_capture_on_commit_callbacks: Any) -> Callable[[], CommittingClient]:
    """A client signed in with alice's password (a session, as step-up needs)."""

    def build() -> CommittingClient:
        client = CommittingClient()
        client.capture = django_capture_on_commit_callbacks
        assert client.login(username="alice", password=PASSWORD)
        return client

    return build


def assert_paused(response: Any, event_type: str, outbox: list[Any]) -> None:
    assert_error(response, 403, "destination_paused")
    assert response.json()["error"]["message"] == (
        "We can't send codes to this number right now. Try again later."
    )
    assert outbox == [] and not SmsMessage.objects.exists()
    refused = AuditEvent.objects.get(event_type=event_type)
    assert (refused.failure_code, refused.outcome) == ("destination_paused", "failure")


def test_enrolment(api: Any, tenant: Tenant, outbox: list[Any]) -> None:
    pause(tenant)
    assert_paused(start(api), "sms_refused", outbox)


def test_the_sign_in_step(anon_api: Any, user: Any, tenant: Tenant, outbox: list[Any]) -> None:
    SmsFactorFactory(user=user, phone=PHONE)
    pause(tenant)
    flow = start_flow(user)
    response = anon_api.post(f"{BASE}flows/{flow.id}/sms/initiate/", {}, format="json")
    assert_paused(response, "flow_step_refused", outbox)


def test_step_up(
    session_client: Callable[[], CommittingClient], user: Any, tenant: Tenant, outbox: list[Any]
) -> None:
    SmsFactorFactory(user=user, phone=PHONE)
    pause(tenant)
    client = session_client()
    started = client.post(f"{BASE}reauthentication/", {}, format="json")
    assert started.status_code == 201, started.content
    flow_id = started.json()["flow_id"]
    response = client.post(f"{BASE}flows/{flow_id}/sms/initiate/", {}, format="json")
    assert_paused(response, "flow_step_refused", outbox)


def test_recovery(anon_api: Any, user: Any, tenant: Tenant, outbox: list[Any]) -> None:
    TenantPolicy.objects.filter(tenant=tenant).update(allow_sms_recovery=True)
    SmsFactorFactory(user=user, phone="+14155550199")
    backup = "+447911123456"
    SmsFactorFactory(user=user, phone=backup, purpose=FactorPurpose.BACKUP)
    pause(tenant, backup)
    response = anon_api.post(
        f"{BASE}recovery/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert_error(response, 403, "destination_paused", phones=(backup,))
    assert outbox == [] and not SmsMessage.objects.exists()
    refused = AuditEvent.objects.get(event_type="recovery_refused")
    assert refused.failure_code == "destination_paused"


def test_another_tenants_pause_does_not_apply(api: Any, outbox: list[Any]) -> None:
    pause(TenantFactory())
    assert start(api).status_code == 201
    assert len(outbox) == 1


def test_in_monitor_mode_a_paused_prefix_still_gets_codes(
    api: Any, tenant: Tenant, outbox: list[Any]
) -> None:
    TenantPolicy.objects.filter(tenant=tenant).update(pumping_protection="monitor")
    pause(tenant)
    assert start(api).status_code == 201
    assert len(outbox) == 1
