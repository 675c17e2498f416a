"""No tenant's data reaches another tenant's staff: not by list, URL, search, filter, action
or export (SECURITY.md 20). Tenant B's rows all carry "bee" in their usernames."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from intelliauth_sms.models import AuditEvent, CountryRule, EventType, SmsUserState
from tests.admin.conftest import ADMIN, B_PHONE, body, shows_tenant_b

pytestmark = pytest.mark.django_db

SUPPORT_LISTS = ["auditevent", "smsfactor", "smsuserstate"]


@pytest.mark.parametrize("model", SUPPORT_LISTS)
def test_support_lists_show_only_their_own_tenant(
    model: str, side_a: Any, side_b: Any, login: Any
) -> None:
    page = login(side_a.support).get(f"{ADMIN}/{model}/")

    assert page.status_code == 200
    assert "ay-member" in body(page)
    assert not shows_tenant_b(body(page))


@pytest.mark.parametrize("model", SUPPORT_LISTS)
@pytest.mark.parametrize("term", ["bee-member", "bee", "bee.member@example.com", "BEE-MEMBER"])
def test_searching_for_another_tenants_user_finds_nothing(
    model: str, term: str, side_a: Any, side_b: Any, login: Any
) -> None:
    page = login(side_a.support).get(f"{ADMIN}/{model}/", {"q": term})

    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == []
    # The page echoes the search term; nothing of B's rows is on it.
    assert 'id="result_list"' not in body(page)
    assert B_PHONE[-4:] not in body(page) and "Bee Corp" not in body(page)


@pytest.mark.parametrize("model", SUPPORT_LISTS)
def test_filtering_on_another_tenant_or_its_user_finds_nothing(
    model: str, side_a: Any, side_b: Any, login: Any
) -> None:
    client = login(side_a.support)
    for params in ({"tenant": side_b.tenant.pk}, {"user": side_b.member.pk}):
        page = client.get(f"{ADMIN}/{model}/", params)
        assert page.status_code in (200, 302)
        if page.status_code == 200:
            assert list(page.context["cl"].result_list) == []
            assert not shows_tenant_b(body(page))


@pytest.mark.parametrize("model", ["auditevent", "smsfactor"])
def test_the_tenant_filter_offers_only_the_users_tenants(
    model: str, side_a: Any, side_b: Any, login: Any, superuser: Any
) -> None:
    # Support staff of one tenant see no tenant filter at all...
    page = login(side_a.support).get(f"{ADMIN}/{model}/")
    assert "Bee Corp" not in body(page)
    # ...a superuser picks among every tenant.
    page = login(superuser).get(f"{ADMIN}/{model}/")
    assert "Bee Corp" in body(page) and "Acme" in body(page)


def test_another_tenants_rows_are_unreachable_by_url(side_a: Any, side_b: Any, login: Any) -> None:
    client = login(side_a.support)
    urls = [
        f"{ADMIN}/auditevent/{side_b.events[0].pk}/change/",
        f"{ADMIN}/auditevent/{side_b.events[0].pk}/history/",
        f"{ADMIN}/smsfactor/{side_b.factor.pk}/change/",
        f"{ADMIN}/smsfactor/{side_b.factor.pk}/history/",
        f"{ADMIN}/smsuserstate/{side_b.member.pk}/change/",
    ]
    for url in urls:
        response = client.get(url, follow=True)
        # Django's admin answers a row outside the queryset like a row that does not exist.
        assert response.redirect_chain and response.redirect_chain[-1][0] == "/admin/", url
        assert not shows_tenant_b(body(response)), url


def test_another_tenants_factor_cannot_be_revealed(side_a: Any, side_b: Any, login: Any) -> None:
    client = login(side_a.support)
    url = f"{ADMIN}/smsfactor/{side_b.factor.pk}/reveal/"

    assert client.get(url).status_code == 404
    posted = client.post(url, {"reason": "ticket 42"})
    assert posted.status_code == 404
    assert B_PHONE not in body(posted)
    assert not AuditEvent.objects.filter(event_type=EventType.NUMBER_REVEALED).exists()


def test_another_tenants_factor_cannot_be_revealed_through_the_action(
    side_a: Any, side_b: Any, login: Any
) -> None:
    response = login(side_a.support).post(
        f"{ADMIN}/smsfactor/",
        {"action": "reveal_number", ACTION_CHECKBOX_NAME: [str(side_b.factor.pk)]},
        follow=True,
    )
    # The foreign id is not in the changelist's queryset: nothing selected, nothing shown.
    assert B_PHONE not in body(response)
    assert not AuditEvent.objects.filter(event_type=EventType.NUMBER_REVEALED).exists()


def test_another_tenants_user_cannot_be_unlocked(side_a: Any, side_b: Any, login: Any) -> None:
    client = login(side_a.support)
    url = f"{ADMIN}/smsuserstate/{side_b.member.pk}/unlock/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "ticket 42"}).status_code == 404

    client.post(
        f"{ADMIN}/smsuserstate/",
        {
            "action": "unlock_users",
            ACTION_CHECKBOX_NAME: [str(side_b.member.pk)],
            "confirm": "yes",
            "reason": "ticket 42",
        },
    )

    assert SmsUserState.objects.get(user=side_b.member).locked_until is not None
    assert not AuditEvent.objects.filter(event_type=EventType.USER_UNLOCKED).exists()


def test_the_export_holds_only_the_users_tenant_whatever_the_filters(
    side_a: Any, side_b: Any, login: Any
) -> None:
    client = login(side_a.support)
    for params in (
        {},
        {"tenant": side_b.tenant.pk},
        {"q": "bee-member"},
        {"user": side_b.member.pk},
    ):
        export = client.get(f"{ADMIN}/auditevent/export/", params)
        content = b"".join(export.streaming_content).decode()
        assert not shows_tenant_b(content), params
    everything = client.get(f"{ADMIN}/auditevent/export/")
    lines = b"".join(everything.streaming_content).decode().strip().splitlines()
    assert len(lines) == 1 + len(side_a.events)


def test_today_of_another_tenant_is_not_found(side_a: Any, side_b: Any, login: Any) -> None:
    for user in (side_a.support, side_a.admin):
        assert login(user).get(f"{ADMIN}/tenant/{side_b.tenant.pk}/today/").status_code == 404


def test_a_tenant_admin_cannot_open_or_edit_another_tenant(
    side_a: Any, side_b: Any, login: Any
) -> None:
    client = login(side_a.admin)
    url = f"{ADMIN}/tenant/{side_b.tenant.pk}/change/"

    response = client.get(url, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"
    posted = client.post(
        url,
        {
            "country_rules-TOTAL_FORMS": "1",
            "country_rules-INITIAL_FORMS": "0",
            "country_rules-0-country": "GB",
            "country_rules-0-action": "block",
            "country_rules-0-unit_cost": "0",
        },
    )
    assert posted.status_code in (302, 403, 404)
    assert not CountryRule.objects.filter(tenant=side_b.tenant).exists()


def test_a_tenant_admin_cannot_smuggle_another_tenants_rule_into_their_form(
    side_a: Any, side_b: Any, login: Any
) -> None:
    foreign = CountryRule.objects.create(tenant=side_b.tenant, country="FR", action="allow")
    client = login(side_a.admin)
    url = f"{ADMIN}/tenant/{side_a.tenant.pk}/change/"
    from tests.admin.conftest import management_data

    data = management_data(client.get(url))
    data.update(
        {
            "country_rules-TOTAL_FORMS": "1",
            "country_rules-INITIAL_FORMS": "1",
            "country_rules-0-id": foreign.pk,
            "country_rules-0-tenant": side_a.tenant.pk,
            "country_rules-0-country": "FR",
            "country_rules-0-action": "block",
            "country_rules-0-unit_cost": "0",
        }
    )
    client.post(url, data)

    foreign.refresh_from_db()
    assert (foreign.tenant, foreign.action) == (side_b.tenant, "allow")


def test_a_superuser_sees_every_tenant(
    side_a: Any, side_b: Any, login: Any, superuser: Any
) -> None:
    client = login(superuser)
    for model in SUPPORT_LISTS:
        page = body(client.get(f"{ADMIN}/{model}/"))
        assert "ay-member" in page and "bee-member" in page, model
    tenants = body(client.get(f"{ADMIN}/tenant/"))
    assert "Acme" in tenants and "Bee Corp" in tenants


@pytest.mark.parametrize("model", SUPPORT_LISTS)
def test_the_leak_check_sees_tenant_b_where_it_is_shown(
    model: str, side_a: Any, side_b: Any, login: Any
) -> None:
    # The control for every "shows nothing of B" assertion: B's own support sees B's rows.
    page = login(side_b.support).get(f"{ADMIN}/{model}/")

    assert page.status_code == 200 and shows_tenant_b(body(page))
