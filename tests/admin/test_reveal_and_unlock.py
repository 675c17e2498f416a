"""Support actions: the reveal asks for a reason and is audited (who, when, why); the unlock
too. Everywhere else a number shows as its last 4 digits."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from intelliauth_sms.models import AuditEvent, EventType, SmsUserState
from tests.admin.conftest import A_PHONE, ADMIN, body

pytestmark = pytest.mark.django_db

NATIONAL = A_PHONE[2:]


def reveals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=EventType.NUMBER_REVEALED))


def test_factor_pages_show_the_number_masked(side_a: Any, login: Any) -> None:
    client = login(side_a.support)
    for url in (
        f"{ADMIN}/smsfactor/",
        f"{ADMIN}/smsfactor/{side_a.factor.pk}/change/",
        f"{ADMIN}/smsfactor/{side_a.factor.pk}/reveal/",
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert NATIONAL not in body(page), url
        assert "•••• 0100" in body(page), url
    assert reveals() == []


def test_reveal_needs_a_reason_then_shows_the_number_once_and_records_who_when_why(
    side_a: Any, login: Any
) -> None:
    client = login(side_a.support)
    url = f"{ADMIN}/smsfactor/{side_a.factor.pk}/reveal/"

    for reason in ("", "   "):
        refused = client.post(url, {"reason": reason})
        assert refused.status_code == 200
        assert NATIONAL not in body(refused)
    assert reveals() == []

    shown = client.post(
        url, {"reason": "Ticket 4711, caller verified by email"}, REMOTE_ADDR="198.51.100.7"
    )

    assert shown.status_code == 200
    assert A_PHONE in body(shown)
    assert "no-store" in shown["Cache-Control"]
    (event,) = reveals()
    assert event.actor == side_a.support
    assert event.user == side_a.member
    assert event.tenant == side_a.tenant
    assert event.detail["reason"] == "Ticket 4711, caller verified by email"
    assert event.ip_address == "198.51.100.7"
    assert event.phone_last4 == "0100" and event.created_at is not None
    assert f"{ADMIN}/auditevent/{event.pk}/change/" in body(shown)

    # The audit event itself shows who, why and the last 4 digits only.
    detail = body(client.get(f"{ADMIN}/auditevent/{event.pk}/change/"))
    assert "ay-support" in detail and "Ticket 4711" in detail
    assert NATIONAL not in detail


@pytest.mark.parametrize(
    "reason",
    [
        "caller gave +1 (415) 555-0199",
        "caller gave 0791 - - 1123 - - 456",
        "caller gave 07911<b>123456",
        "caller gave O79II 123456",
    ],
)
def test_a_reason_holding_a_phone_number_is_refused(reason: str, side_a: Any, login: Any) -> None:
    response = login(side_a.support).post(
        f"{ADMIN}/smsfactor/{side_a.factor.pk}/reveal/", {"reason": reason}
    )
    assert response.status_code == 200
    assert "Leave phone numbers out of the reason" in body(response)
    assert reveals() == []


def test_a_get_never_reveals(side_a: Any, login: Any) -> None:
    page = login(side_a.support).get(
        f"{ADMIN}/smsfactor/{side_a.factor.pk}/reveal/", {"reason": "ticket 1"}
    )
    assert NATIONAL not in body(page) and reveals() == []


def test_the_reveal_action_takes_one_factor_to_the_reason_form(side_a: Any, login: Any) -> None:
    client = login(side_a.support)
    response = client.post(
        f"{ADMIN}/smsfactor/",
        {"action": "reveal_number", ACTION_CHECKBOX_NAME: [str(side_a.factor.pk)]},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{ADMIN}/smsfactor/{side_a.factor.pk}/reveal/"
    assert reveals() == []


def test_the_factor_page_offers_the_reveal_button(side_a: Any, login: Any) -> None:
    page = body(login(side_a.support).get(f"{ADMIN}/smsfactor/{side_a.factor.pk}/change/"))
    assert f"{ADMIN}/smsfactor/{side_a.factor.pk}/reveal/" in page


def test_unlocking_one_user_asks_why_clears_the_lockout_and_is_audited(
    side_a: Any, login: Any
) -> None:
    client = login(side_a.support)
    url = f"{ADMIN}/smsuserstate/{side_a.member.pk}/unlock/"
    assert client.post(url, {"reason": ""}).status_code == 200
    assert SmsUserState.objects.get(user=side_a.member).locked_until is not None

    done = client.post(url, {"reason": "verified on a call-back, ticket 9"})

    assert done.status_code == 302
    state = SmsUserState.objects.get(user=side_a.member)
    assert (state.locked_until, state.failed_attempts, state.consecutive_failures) == (None, 0, 0)
    event = AuditEvent.objects.get(event_type=EventType.USER_UNLOCKED)
    assert (event.actor, event.user, event.tenant) == (side_a.support, side_a.member, side_a.tenant)
    assert event.detail["reason"] == "verified on a call-back, ticket 9"
    assert event.detail["was_locked"] is True
    assert event.detail["previous"]["locked_until"] is not None


def test_the_unlock_action_confirms_with_a_reason(side_a: Any, login: Any) -> None:
    client = login(side_a.support)
    selected = {"action": "unlock_users", ACTION_CHECKBOX_NAME: [str(side_a.member.pk)]}

    confirm = client.post(f"{ADMIN}/smsuserstate/", selected)
    assert confirm.status_code == 200 and 'name="reason"' in body(confirm)
    assert not AuditEvent.objects.filter(event_type=EventType.USER_UNLOCKED).exists()

    done = client.post(
        f"{ADMIN}/smsuserstate/", {**selected, "confirm": "yes", "reason": "ticket 10"}
    )

    assert done.status_code == 302
    assert SmsUserState.objects.get(user=side_a.member).locked_until is None
    event = AuditEvent.objects.get(event_type=EventType.USER_UNLOCKED)
    assert event.actor == side_a.support and event.detail["reason"] == "ticket 10"


def test_the_lockout_list_filters_users_locked_now(side_a: Any, login: Any) -> None:
    client = login(side_a.support)
    locked = client.get(f"{ADMIN}/smsuserstate/", {"status": "locked"})
    assert [s.user for s in locked.context["cl"].result_list] == [side_a.member]
    disabled = client.get(f"{ADMIN}/smsuserstate/", {"status": "disabled"})
    assert list(disabled.context["cl"].result_list) == []
