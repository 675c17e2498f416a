"""Role boundaries: the membership grants exactly what CONTRACT §2 and §6 say, no Django model
permission is needed, and without a membership a staff user sees nothing of the app."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from intelliauth_sms.models import TenantMembership
from tests.admin.conftest import ADMIN, body
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def console_urls(side: Any) -> list[str]:
    """Every page of the console, for one tenant's rows."""
    return [
        f"{ADMIN}/",
        f"{ADMIN}/auditevent/",
        f"{ADMIN}/auditevent/{side.events[0].pk}/change/",
        f"{ADMIN}/auditevent/export/",
        f"{ADMIN}/smsfactor/",
        f"{ADMIN}/smsfactor/{side.factor.pk}/change/",
        f"{ADMIN}/smsfactor/{side.factor.pk}/reveal/",
        f"{ADMIN}/smsuserstate/",
        f"{ADMIN}/smsuserstate/{side.member.pk}/change/",
        f"{ADMIN}/smsuserstate/{side.member.pk}/unlock/",
        f"{ADMIN}/tenant/",
        f"{ADMIN}/tenant/{side.tenant.pk}/change/",
        f"{ADMIN}/tenant/add/",
        f"{ADMIN}/tenant/today/",
        f"{ADMIN}/tenant/{side.tenant.pk}/today/",
        f"{ADMIN}/tenant/runbook/",
    ]


def test_a_staff_user_without_a_membership_sees_nothing_of_the_app(
    side_a: Any, loner: Any, login: Any
) -> None:
    client = login(loner)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "intelliauth_sms" not in body(index) and "SMS MFA" not in body(index)
    for url in console_urls(side_a):
        assert client.get(url).status_code in (403, 404), url


def test_django_model_permissions_without_a_membership_grant_nothing(
    side_a: Any, loner: Any, login: Any
) -> None:
    loner.user_permissions.set(Permission.objects.filter(content_type__app_label="intelliauth_sms"))
    client = login(loner)
    for url in console_urls(side_a):
        assert client.get(url).status_code in (403, 404), url


def test_a_member_role_is_no_console_role(side_a: Any, login: Any) -> None:
    staff_member = UserFactory(username="staff-member", is_staff=True)
    MembershipFactory(user=staff_member, tenant=side_a.tenant, role=TenantMembership.Role.MEMBER)
    client = login(staff_member)
    for url in console_urls(side_a):
        assert client.get(url).status_code in (403, 404), url


def test_a_membership_without_staff_status_opens_no_admin(side_a: Any, login: Any) -> None:
    side_a.support.is_staff = False
    side_a.support.save()
    response = login(side_a.support).get(f"{ADMIN}/auditevent/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_support_staff_read_audit_factors_and_lockouts_but_not_the_policy(
    side_a: Any, login: Any
) -> None:
    client = login(side_a.support)
    for url in (
        f"{ADMIN}/auditevent/",
        f"{ADMIN}/auditevent/export/",
        f"{ADMIN}/smsfactor/",
        f"{ADMIN}/smsfactor/{side_a.factor.pk}/reveal/",
        f"{ADMIN}/smsuserstate/",
        f"{ADMIN}/smsuserstate/{side_a.member.pk}/unlock/",
        f"{ADMIN}/tenant/{side_a.tenant.pk}/today/",
        f"{ADMIN}/tenant/runbook/",
    ):
        assert client.get(url).status_code == 200, url
    for url in (f"{ADMIN}/tenant/", f"{ADMIN}/tenant/{side_a.tenant.pk}/change/"):
        assert client.get(url).status_code == 403, url
    app_index = body(client.get(f"{ADMIN}/"))
    assert "Audit events" in app_index and "Tenants" not in app_index


def test_tenant_admins_edit_the_policy_but_read_no_audit_factor_or_lockout(
    side_a: Any, login: Any
) -> None:
    client = login(side_a.admin)
    assert client.get(f"{ADMIN}/tenant/{side_a.tenant.pk}/change/").status_code == 200
    assert client.get(f"{ADMIN}/tenant/{side_a.tenant.pk}/today/").status_code == 200
    assert client.get(f"{ADMIN}/tenant/runbook/").status_code == 200
    for url in (
        f"{ADMIN}/auditevent/",
        f"{ADMIN}/auditevent/export/",
        f"{ADMIN}/smsfactor/",
        f"{ADMIN}/smsuserstate/",
        f"{ADMIN}/smsfactor/{side_a.factor.pk}/change/",
    ):
        assert client.get(url).status_code == 403, url
    for url in (
        f"{ADMIN}/smsfactor/{side_a.factor.pk}/reveal/",
        f"{ADMIN}/smsuserstate/{side_a.member.pk}/unlock/",
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"reason": "curious"}).status_code == 404, url


def test_tenant_admins_cannot_add_or_delete_tenants_or_rename_theirs(
    side_a: Any, login: Any
) -> None:
    client = login(side_a.admin)
    assert client.get(f"{ADMIN}/tenant/add/").status_code == 403
    assert client.get(f"{ADMIN}/tenant/{side_a.tenant.pk}/delete/").status_code == 403
    page = client.get(f"{ADMIN}/tenant/{side_a.tenant.pk}/change/")
    form = page.context["adminform"].form
    assert "name" not in form.fields and "slug" not in form.fields
    # Memberships (who holds which role) are for superusers only.
    assert "memberships" not in body(page)


def test_a_tenant_admin_of_one_tenant_goes_straight_to_it(side_a: Any, login: Any) -> None:
    response = login(side_a.admin).get(f"{ADMIN}/tenant/")
    assert response.status_code == 302
    assert response["Location"] == f"{ADMIN}/tenant/{side_a.tenant.pk}/change/"


def test_roles_are_per_tenant(side_a: Any, side_b: Any, login: Any) -> None:
    # Admin of A and support of B: edits A's policy, reads B's audit trail, nothing more.
    both = UserFactory(username="two-hats", is_staff=True)
    MembershipFactory(user=both, tenant=side_a.tenant, role=TenantMembership.Role.ADMIN)
    MembershipFactory(user=both, tenant=side_b.tenant, role=TenantMembership.Role.SUPPORT)
    client = login(both)

    audit = body(client.get(f"{ADMIN}/auditevent/"))
    assert "bee-member" in audit and "ay-member" not in audit
    assert client.get(f"{ADMIN}/tenant/{side_a.tenant.pk}/change/").status_code == 200
    assert client.get(f"{ADMIN}/tenant/{side_b.tenant.pk}/change/", follow=True).redirect_chain
    assert client.get(f"{ADMIN}/smsfactor/{side_a.factor.pk}/reveal/").status_code == 404
    assert client.get(f"{ADMIN}/smsfactor/{side_b.factor.pk}/reveal/").status_code == 200
    today = client.get(f"{ADMIN}/tenant/today/")
    assert today.status_code == 200 and "Acme" in body(today) and "Bee Corp" in body(today)


def test_the_app_index_lists_the_console_pages_the_user_may_open(
    side_a: Any, login: Any, superuser: Any
) -> None:
    support = body(login(side_a.support).get(f"{ADMIN}/"))
    assert "Recovery events" in support and "Locked-out users" in support
    assert "Policy and country rules" not in support
    admin = body(login(side_a.admin).get(f"{ADMIN}/"))
    assert "Policy and country rules" in admin and "Today" in admin
    assert "Recovery events" not in admin
    everything = body(login(superuser).get(f"{ADMIN}/"))
    for title in ("Today", "MFA recovery runbook", "Policy and country rules", "Recovery events"):
        assert title in everything


def test_superusers_add_tenants_and_manage_memberships(login: Any, superuser: Any, db: Any) -> None:
    client = login(superuser)
    response = client.post(
        f"{ADMIN}/tenant/add/",
        {
            "name": "Initech",
            "slug": "initech",
            "country_rules-TOTAL_FORMS": "0",
            "country_rules-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "security_questions-TOTAL_FORMS": "0",
            "security_questions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    tenant = TenantFactory._meta.model.objects.get(slug="initech")
    assert tenant.policy.code_ttl_seconds == 300  # created with the tenant, defaults
