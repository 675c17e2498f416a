"""The audit trail in the admin: read-only for everybody, filters, the recovery preset and
badge, search by user, and the CSV export of the filtered list with the last 4 digits only."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from intelliauth_sms.models import AuditEvent, EventType, Outcome
from intelliauth_sms.services import audit
from tests.admin.conftest import A_PHONE, ADMIN, body

pytestmark = pytest.mark.django_db


def listed(response: Any) -> list[AuditEvent]:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def export_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("who", ["support", "superuser"])
def test_audit_events_cannot_be_added_changed_or_deleted_even_by_a_superuser(
    who: str, side_a: Any, login: Any, superuser: Any
) -> None:
    client = login(superuser if who == "superuser" else side_a.support)
    event = side_a.events[0]
    change = f"{ADMIN}/auditevent/{event.pk}/change/"

    assert client.get(f"{ADMIN}/auditevent/add/").status_code == 403
    assert client.post(f"{ADMIN}/auditevent/add/", {"event_type": "sms_sent"}).status_code == 403
    assert (
        client.post(change, {"event_type": "sms_refused", "outcome": "failure"}).status_code == 403
    )
    assert client.get(f"{ADMIN}/auditevent/{event.pk}/delete/").status_code == 403
    assert client.post(f"{ADMIN}/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = client.post(
        f"{ADMIN}/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)

    assert AuditEvent.objects.count() == len(side_a.events)
    event.refresh_from_db()
    assert event.event_type == EventType.SMS_SENT
    view = client.get(change)
    assert view.status_code == 200
    assert 'type="submit"' not in body(view).split('id="auditevent_form"')[1].split("</form>")[0]
    assert "delete_selected" not in body(client.get(f"{ADMIN}/auditevent/"))


def test_filters_narrow_by_type_outcome_failure_code_and_recovery(side_a: Any, login: Any) -> None:
    client = login(side_a.support)
    url = f"{ADMIN}/auditevent/"
    by_type = listed(client.get(url, {"event_type__exact": EventType.SMS_REFUSED}))
    assert [e.event_type for e in by_type] == [EventType.SMS_REFUSED]
    failures = listed(client.get(url, {"outcome__exact": Outcome.FAILURE}))
    assert {e.event_type for e in failures} == {EventType.SMS_REFUSED, EventType.LOCKOUT_STARTED}
    by_code = listed(client.get(url, {"failure_code": "country_not_allowed"}))
    assert [e.failure_code for e in by_code] == ["country_not_allowed"]
    recovery = listed(client.get(url, {"recovery": "yes"}))
    assert [e.event_type for e in recovery] == [EventType.RECOVERY_REQUESTED]
    others = listed(client.get(url, {"recovery": "no"}))
    assert len(others) == len(side_a.events) - 1


def test_the_date_hierarchy_drills_down_to_a_day(side_a: Any, login: Any) -> None:
    client = login(side_a.support)
    when = side_a.events[0].created_at
    page = client.get(
        f"{ADMIN}/auditevent/",
        {
            "created_at__year": when.year,
            "created_at__month": when.month,
            "created_at__day": when.day,
        },
    )
    assert len(listed(page)) == len(side_a.events)
    empty_day = client.get(
        f"{ADMIN}/auditevent/",
        {"created_at__year": 2001, "created_at__month": 1, "created_at__day": 1},
    )
    assert listed(empty_day) == []
    # The drill-down offers the day the events are on.
    top = body(client.get(f"{ADMIN}/auditevent/"))
    assert f"created_at__day={when.day}" in top


def test_recovery_events_stand_out_with_a_badge_and_a_preset(side_a: Any, login: Any) -> None:
    page = body(login(side_a.support).get(f"{ADMIN}/auditevent/"))
    assert page.count('class="iasms-badge iasms-recovery"') == 1
    assert 'href="?recovery=yes"' in page


def test_search_finds_events_by_the_user_or_the_staff_member_who_acted(
    side_a: Any, login: Any
) -> None:
    revealed = audit.record(
        EventType.NUMBER_REVEALED,
        user=side_a.member,
        actor=side_a.support,
        tenant=side_a.tenant,
        phone_last4="0100",
        detail={"reason": "ticket 7"},
    )
    client = login(side_a.support)
    by_user = listed(client.get(f"{ADMIN}/auditevent/", {"q": "ay-member"}))
    assert len(by_user) == len(side_a.events) + 1
    by_email = listed(client.get(f"{ADMIN}/auditevent/", {"q": "AY.MEMBER@example.com"}))
    assert len(by_email) == len(by_user)
    by_actor = listed(client.get(f"{ADMIN}/auditevent/", {"q": "ay-support"}))
    assert by_actor == [revealed]
    assert listed(client.get(f"{ADMIN}/auditevent/", {"q": "nobody"})) == []


def test_the_list_and_detail_show_the_last_4_digits_only(side_a: Any, login: Any) -> None:
    client = login(side_a.support)
    national = A_PHONE[2:]
    pages = [client.get(f"{ADMIN}/auditevent/")] + [
        client.get(f"{ADMIN}/auditevent/{e.pk}/change/") for e in side_a.events
    ]
    for page in pages:
        assert page.status_code == 200
        assert national[:6] not in body(page) and A_PHONE not in body(page)
    assert "•••• 0100" in body(pages[0])


def test_the_export_follows_the_lists_filters_and_holds_only_last_4(
    side_a: Any, login: Any
) -> None:
    client = login(side_a.support)
    rows = export_rows(client.get(f"{ADMIN}/auditevent/export/"))
    assert len(rows) == len(side_a.events)
    assert {r["phone_last4"] for r in rows} <= {"", "0100"}
    assert list(rows[0]) == [
        "created_at",
        "event_type",
        "outcome",
        "failure_code",
        "recovery",
        "purpose",
        "user",
        "actor",
        "tenant",
        "ip_address",
        "phone_last4",
        "detail",
    ]
    recovery = export_rows(client.get(f"{ADMIN}/auditevent/export/", {"recovery": "yes"}))
    assert [(r["event_type"], r["recovery"]) for r in recovery] == [("recovery_requested", "yes")]
    searched = export_rows(client.get(f"{ADMIN}/auditevent/export/", {"q": "nobody"}))
    assert searched == []


def test_the_changelist_links_the_export_with_its_current_filters(side_a: Any, login: Any) -> None:
    page = body(login(side_a.support).get(f"{ADMIN}/auditevent/", {"recovery": "yes"}))
    assert f"{ADMIN}/auditevent/export/?recovery=yes" in page


def test_the_export_masks_numbers_typed_into_free_text_and_defuses_formulas(
    side_a: Any, login: Any
) -> None:
    side_a.member.username = "=HYPERLINK(1)"
    side_a.member.save()
    audit.record(
        EventType.USER_UNLOCKED,
        user=side_a.member,
        actor=side_a.support,
        tenant=side_a.tenant,
        detail={"reason": "caller said +1 415 555 0100"},
    )
    rows = export_rows(login(side_a.support).get(f"{ADMIN}/auditevent/export/"))
    unlock = next(r for r in rows if r["event_type"] == "user_unlocked")
    assert unlock["detail"] == "reason: caller said •••• 0100"
    assert unlock["user"] == "'=HYPERLINK(1)"
