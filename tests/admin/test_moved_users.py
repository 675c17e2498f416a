"""A user moved to another tenant is that tenant's, everywhere in the console (CONTRACT §6).

The review found a user moved from A to B still visible to A's support (factors, reveal),
while B's support saw the lockout but not the factor, and the lockout list ignoring a
custom ``TENANT_RESOLVER``. The user's SMS rows carry the tenant ``TENANT_RESOLVER`` gives
now, kept in step on every write; object actions ask the resolver too.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from intelliauth_sms.models import (
    AuditEvent,
    EventType,
    SmsFactor,
    SmsUserState,
    Tenant,
    TenantMembership,
)
from intelliauth_sms.services import codes
from intelliauth_sms.services.context import Caller
from intelliauth_sms.tenancy import sync_user_tenant
from tests.admin.conftest import ADMIN, body

#: A site's own resolver: users whose email is at bee.example belong to Bee Corp.
BY_EMAIL = "tests.admin.test_moved_users.tenant_by_email"


def tenant_by_email(user: Any) -> Tenant:
    slug = "bee-corp" if str(user.email).endswith("@bee.example") else "acme"
    return Tenant.objects.get(slug=slug)


def move_by_membership(side_a: Any, side_b: Any) -> None:
    TenantMembership.objects.filter(user=side_a.member).delete()
    TenantMembership.objects.create(
        user=side_a.member, tenant=side_b.tenant, role=TenantMembership.Role.MEMBER
    )


def sees(client: Any, side: Any) -> dict[str, bool]:
    """What a support client can reach of ``side``'s member."""
    factor, member = side.factor, side.member
    return {
        "factor list": member.username in body(client.get(f"{ADMIN}/smsfactor/")),
        "lockout list": member.username in body(client.get(f"{ADMIN}/smsuserstate/")),
        "factor page": client.get(f"{ADMIN}/smsfactor/{factor.pk}/change/").status_code == 200,
        "lockout page": client.get(f"{ADMIN}/smsuserstate/{member.pk}/change/").status_code == 200,
        "reveal": client.get(f"{ADMIN}/smsfactor/{factor.pk}/reveal/").status_code == 200,
        "unlock": client.get(f"{ADMIN}/smsuserstate/{member.pk}/unlock/").status_code == 200,
    }


ALL = dict.fromkeys(
    ["factor list", "lockout list", "factor page", "lockout page", "reveal", "unlock"], True
)
NOTHING = dict.fromkeys(ALL, False)


def test_before_the_move_each_side_sees_its_own(side_a: Any, side_b: Any, login: Any) -> None:
    assert sees(login(side_a.support), side_a) == ALL
    assert sees(login(side_b.support), side_a) == NOTHING


def test_a_membership_move_hands_everything_to_the_new_tenant(
    side_a: Any, side_b: Any, login: Any
) -> None:
    move_by_membership(side_a, side_b)

    assert sees(login(side_a.support), side_a) == NOTHING
    assert sees(login(side_b.support), side_a) == ALL
    assert SmsFactor.objects.get(pk=side_a.factor.pk).tenant == side_b.tenant
    assert SmsUserState.objects.get(user=side_a.member).tenant == side_b.tenant


def test_the_old_tenant_cannot_reveal_or_unlock_by_posting_either(
    side_a: Any, side_b: Any, login: Any
) -> None:
    move_by_membership(side_a, side_b)
    old = login(side_a.support)
    assert (
        old.post(f"{ADMIN}/smsfactor/{side_a.factor.pk}/reveal/", {"reason": "t 1"}).status_code
        == 404
    )
    assert (
        old.post(f"{ADMIN}/smsuserstate/{side_a.member.pk}/unlock/", {"reason": "t 1"}).status_code
        == 404
    )
    assert not AuditEvent.objects.filter(
        event_type__in=[EventType.NUMBER_REVEALED, EventType.USER_UNLOCKED]
    ).exists()


@override_settings(INTELLIAUTH_SMS={"TENANT_RESOLVER": BY_EMAIL})
def test_a_custom_resolver_is_obeyed_at_once_for_actions_and_after_a_sync_for_lists(
    side_a: Any, side_b: Any, login: Any
) -> None:
    member = side_a.member
    sync_user_tenant(member)  # the site's rows in step with its rule
    assert sees(login(side_a.support), side_a) == ALL

    member.email = "member@bee.example"  # the site's own rule moves the user
    member.save()
    # Before anything brings the rows in step, the old tenant still lists them but can
    # open, reveal or unlock nothing: the resolver is asked for every object.
    old = sees(login(side_a.support), side_a)
    assert not any(old[k] for k in ("factor page", "lockout page", "reveal", "unlock"))

    sync_user_tenant(member)  # what the site calls after moving a user
    assert sees(login(side_a.support), side_a) == NOTHING
    assert sees(login(side_b.support), side_a) == ALL


@override_settings(INTELLIAUTH_SMS={"TENANT_RESOLVER": BY_EMAIL})
def test_the_users_next_send_brings_the_rows_in_step_with_a_custom_resolver(
    side_a: Any, side_b: Any, login: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    from intelliauth_sms.phone import parse_e164

    member = side_a.member
    member.email = "member@bee.example"
    member.save()
    SmsUserState.objects.filter(user=member).update(locked_until=None, failed_attempts=0)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        codes.issue_code(
            Caller.for_user(member),
            purpose="enrolment",
            subject_id=side_a.factor.pk,
            destination=parse_e164("+14155550177"),
        )
    assert SmsUserState.objects.get(user=member).tenant == side_b.tenant
    assert SmsFactor.objects.get(pk=side_a.factor.pk).tenant == side_b.tenant
    assert sees(login(side_b.support), side_a)["lockout list"]


@pytest.mark.parametrize("resolver", [None, BY_EMAIL])
def test_the_lockout_list_follows_the_resolver_not_a_copy_of_its_rule(
    resolver: str | None, side_a: Any, side_b: Any, login: Any, settings: Any
) -> None:
    if resolver:
        settings.INTELLIAUTH_SMS = {"TENANT_RESOLVER": resolver}
        side_a.member.email = "member@bee.example"
        side_a.member.save()
    else:
        move_by_membership(side_a, side_b)
    sync_user_tenant(side_a.member)
    listed = body(login(side_b.support).get(f"{ADMIN}/smsuserstate/"))
    assert side_a.member.username in listed
    assert side_a.member.username not in body(login(side_a.support).get(f"{ADMIN}/smsuserstate/"))
