"""The messages list for support staff: masked numbers, status, provider id and error, filters
by status, and no tenant's messages reaching another tenant's staff (like the other lists in
test_tenant_isolation.py). Tenant B's rows carry "bee" in their usernames."""

from __future__ import annotations

from typing import Any

import pytest

from intelliauth_sms.models import MessageStatus, SmsMessage, SmsUserState
from intelliauth_sms.services import enrolment
from tests.admin.conftest import ADMIN, body, shows_tenant_b
from tests.admin.test_malformed_parameters import MALFORMED

pytestmark = pytest.mark.django_db

URL = f"{ADMIN}/smsmessage/"
A_NUMBER = "+14155550123"
B_NUMBER = "+447400123499"


def sent_message(user: Any, number: str, capture: Any, **columns: Any) -> SmsMessage:
    # The shared fixture locks its members out; this one needs to be sent a code.
    SmsUserState.objects.filter(user=user).update(locked_until=None)
    with capture(execute=True):
        _pending, issued = enrolment.start_enrolment(user, number)
    SmsMessage.objects.filter(pk=issued.message.pk).update(**columns)
    return SmsMessage.objects.get(pk=issued.message.pk)


@pytest.fixture
def messages(side_a: Any, side_b: Any, django_capture_on_commit_callbacks: Any) -> Any:
    capture = django_capture_on_commit_callbacks
    a = sent_message(
        side_a.member,
        A_NUMBER,
        capture,
        status=MessageStatus.UNDELIVERED,
        provider_message_id="SM-ay-1",
        provider_error="30003",
    )
    b = sent_message(
        side_b.member,
        B_NUMBER,
        capture,
        status=MessageStatus.DELIVERED,
        provider_message_id="SM-bee-1",
    )
    return a, b


def test_support_sees_their_tenants_messages_masked_with_status_and_provider_error(
    messages: Any, side_a: Any, login: Any
) -> None:
    page = login(side_a.support).get(URL)

    assert page.status_code == 200
    html = body(page)
    assert "ay-member" in html and "SM-ay-1" in html and "30003" in html
    assert "Not delivered" in html and "•••• 0123" in html
    assert not shows_tenant_b(html)
    # Only the last 4 digits of the number, anywhere on the page.
    assert "4155550123" not in html and "415555" not in html


def test_the_status_filter_narrows_the_list(messages: Any, side_a: Any, login: Any) -> None:
    client = login(side_a.support)

    assert len(client.get(URL, {"status__exact": "undelivered"}).context["cl"].result_list) == 1
    assert list(client.get(URL, {"status__exact": "delivered"}).context["cl"].result_list) == []


def test_another_tenants_message_is_unreachable(
    messages: Any, side_a: Any, side_b: Any, login: Any
) -> None:
    _a, b = messages
    client = login(side_a.support)

    for params in ({"tenant": side_b.tenant.pk}, {"q": "bee-member"}, {"user": side_b.member.pk}):
        page = client.get(URL, params)
        assert page.status_code in (200, 302)
        if page.status_code == 200:
            assert list(page.context["cl"].result_list) == []
    response = client.get(f"{URL}{b.pk}/change/", follow=True)
    assert not shows_tenant_b(body(response))


def test_the_message_page_shows_the_status_and_provider_error(
    messages: Any, side_a: Any, login: Any
) -> None:
    a, _b = messages

    page = login(side_a.support).get(f"{URL}{a.pk}/change/")

    assert page.status_code == 200
    html = body(page)
    assert "30003" in html and "SM-ay-1" in html and "•••• 0123" in html
    assert "4155550123" not in html


def test_tenant_admins_and_staff_without_a_membership_see_no_messages(
    messages: Any, side_a: Any, loner: Any, login: Any
) -> None:
    for user in (side_a.admin, loner):
        assert login(user).get(URL).status_code == 403


def test_a_superuser_sees_every_tenants_messages(messages: Any, superuser: Any, login: Any) -> None:
    html = body(login(superuser).get(URL))

    assert "SM-ay-1" in html and "SM-bee-1" in html and "Delivered" in html


def test_the_list_is_read_only(messages: Any, side_a: Any, login: Any) -> None:
    a, _b = messages
    client = login(side_a.support)

    assert client.get(f"{URL}add/").status_code == 403
    assert client.post(f"{URL}{a.pk}/delete/").status_code == 403


@pytest.mark.parametrize("query", MALFORMED)
def test_malformed_parameters_answer_a_page_and_leak_nothing(
    query: str, messages: Any, side_a: Any, superuser: Any, login: Any
) -> None:
    for who in (side_a.support, superuser):
        response = login(who).get(f"{URL}?{query}")
        assert response.status_code < 500, query
        if who is side_a.support and response.status_code == 200:
            assert not shows_tenant_b(body(response)), query
