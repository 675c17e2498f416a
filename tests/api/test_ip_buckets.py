"""The per-IP limit counts buckets, not raw addresses (CONTRACT §2 "Client addresses").

IPv6 by its /64, IPv4-mapped IPv6 as the IPv4 address, and one shared bucket for requests
without a usable address, which are never unlimited (issue 7 finding).
"""

from __future__ import annotations

from typing import Any

import pytest

from intelliauth_sms.client_ip import ip_bucket
from intelliauth_sms.models import AuditEvent, SmsMessage, TenantPolicy
from tests.factories import UserFactory
from tests.mfa import verified_token

LIMIT = 3


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:aa:bb:1::1", "2001:db8:aa:bb::"),
        ("2001:db8:aa:bb:ffff:ffff:ffff:ffff", "2001:db8:aa:bb::"),
        ("2001:db8:aa:bc::1", "2001:db8:aa:bc::"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("::1", "::"),
        (None, None),
        ("", None),
        ("unknown", None),
        ("203.0.113.7, 10.0.0.1", None),
        ("1.2.3.4\x00", None),
    ],
)
def test_the_bucket_of_an_address(address: str | None, bucket: str | None) -> None:
    assert ip_bucket(address) == bucket


@pytest.fixture
def tight(db: Any) -> TenantPolicy:
    policy = TenantPolicy.objects.get(tenant__slug="default")
    policy.ip_sms_per_hour = LIMIT
    policy.enrolment_sms_per_hour = 50
    policy.save()
    return policy


def enrol_from(address: str, index: int, client_factory: Any) -> Any:
    """A new user (so no per-user limit interferes) starts an enrolment from ``address``."""
    client = client_factory()
    client.force_authenticate(UserFactory(username=f"u{index}"), token=verified_token())
    return client.post(
        "/api/mfa/sms/enrolments/",
        {"phone_number": f"+1415555{index + 100:04d}"},
        format="json",
        REMOTE_ADDR=address,
    )


@pytest.fixture
def new_client(django_capture_on_commit_callbacks: Any) -> Any:
    from tests.conftest import CommittingClient

    def build() -> Any:
        client = CommittingClient()
        client.capture = django_capture_on_commit_callbacks
        return client

    return build


@pytest.mark.parametrize(
    "addresses",
    [
        ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3", "2001:db8:1:2::4"],
        ["203.0.113.9", "::ffff:203.0.113.9", "203.0.113.9", "::ffff:cb00:7109"],
        ["", "not-an-ip", "", "999.1.1.1"],
    ],
    ids=["one-ipv6-64", "mapped-ipv4", "no-usable-address"],
)
def test_one_bucket_shares_one_limit(
    addresses: list[str], tight: TenantPolicy, new_client: Any, outbox: list[Any]
) -> None:
    answers = [enrol_from(a, i, new_client).status_code for i, a in enumerate(addresses)]

    assert answers == [201] * LIMIT + [429]
    assert len(outbox) == LIMIT
    assert SmsMessage.objects.count() == LIMIT


def test_neighbouring_64s_have_their_own_limits(
    tight: TenantPolicy, new_client: Any, outbox: list[Any]
) -> None:
    for index in range(LIMIT):
        assert enrol_from("2001:db8:1:2::9", index, new_client).status_code == 201
    assert enrol_from("2001:db8:1:3::9", 10, new_client).status_code == 201


def test_audit_events_keep_the_exact_address_and_nothing_for_garbage(
    tight: TenantPolicy, new_client: Any
) -> None:
    enrol_from("2001:db8:1:2::77", 0, new_client)
    enrol_from("garbage", 1, new_client)
    sent = list(AuditEvent.objects.filter(event_type="sms_sent").order_by("id"))
    assert [e.ip_address for e in sent] == ["2001:db8:1:2::77", None]


def test_the_request_flood_guard_counts_the_same_buckets(
    settings: Any, new_client: Any, user: Any
) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "REQUEST_RATE": "2/m"}
    client = new_client()
    client.force_authenticate(user, token=verified_token())
    codes = [
        client.get("/api/mfa/sms/factors/", REMOTE_ADDR=address).status_code
        for address in ("2001:db8:5::1", "2001:db8:5::2", "2001:db8:5:0:1::3")
    ]
    assert codes == [200, 200, 429]
    assert client.get("/api/mfa/sms/factors/", REMOTE_ADDR="2001:db8:6::1").status_code == 200
