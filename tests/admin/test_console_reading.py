"""The console's service helpers: how audit details read, and what free text may hold."""

from __future__ import annotations

from typing import Any

import pytest

from intelliauth_sms.models import AuditEvent, EventType
from intelliauth_sms.services.audit_catalogue import FAILURE_CODES
from intelliauth_sms.services.audit_export import describe_detail
from intelliauth_sms.services.number_screening import looks_like_phone_number, mask_numbers


def policy_event(**detail: Any) -> AuditEvent:
    return AuditEvent(event_type=EventType.POLICY_CHANGED, detail=detail)


def test_policy_changes_read_as_field_old_and_new() -> None:
    changed = policy_event(target="tenant_policy", field="ip_sms_per_hour", old=20, new=50)
    added = policy_event(
        target="country_rule", key="GB", field="row", old=None, new={"action": "block"}
    )
    deleted = policy_event(
        target="country_rule", key="GB", field="row", old={"action": ""}, new=None
    )
    cap = policy_event(target="tenant_policy", field="daily_high_cost_cap", old=None, new="5.0000")

    assert describe_detail(changed) == "tenant_policy: ip_sms_per_hour 20 → 50"
    assert describe_detail(added) == "country_rule GB: added (action=block)"
    assert describe_detail(deleted) == 'country_rule GB: deleted (action="")'
    assert describe_detail(cap) == "tenant_policy: daily_high_cost_cap — → 5.0000"


def test_other_details_read_as_key_value_pairs_with_numbers_masked() -> None:
    event = AuditEvent(
        event_type=EventType.NUMBER_REVEALED,
        detail={"reason": "caller read +44 7911 123456 back", "ticket": 42},
    )
    assert describe_detail(event) == "reason: caller read •••• 3456 back; ticket: 42"


@pytest.mark.parametrize(
    ("text", "phone_like"),
    [
        ("ticket 4711", False),
        ("ticket 123456", False),
        ("+14155550100", True),
        ("(415) 555-0100", True),
        ("07911 123 456", True),
        ("415.555.0100", True),
        # The review's bypasses: separators, markup, letters standing in for digits.
        ("0791 - - 1123 - - 456", True),
        ("07911<b>123456", True),
        ("O79II 123456", True),
        ("o7911 l23456", True),
        ("０７９１１ １２３４５６", True),
        ("٠٧٩١١١٢٣٤٥٦", True),
        ("0791\u200b1123456", True),
        ("+44 (0) 7911 / 123 * 456", True),
        # Ordinary reasons stay allowed.
        ("User called from the office, ID verified, ticket 42", False),
        ("Verified via video call; passport checked (ticket INC-4711)", False),
        ("Lost phone, IIlinois office, SMS 2FA reset requested", False),
        ("Ticket 123-456", False),
    ],
)
def test_what_counts_as_a_phone_number_in_free_text(text: str, phone_like: bool) -> None:
    assert looks_like_phone_number(text) is phone_like
    assert (mask_numbers(text) != text) is phone_like


def test_the_failure_code_filter_lists_every_error_code_of_the_contract() -> None:
    for code in (
        "rate_limited",
        "country_not_allowed",
        "cost_cap_reached",
        "locked",
        "invalid_code",
    ):
        assert code in FAILURE_CODES
