"""``services.sql.update``: a plain ``UPDATE`` whose values are prepared as ``save()``
prepares them (times with their zone, choices, foreign keys by attname, an empty phone
number stored empty), changing only the rows its lookups match."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from intelliauth_sms.models import AuthFlow, PendingEnrolment, Tenant
from intelliauth_sms.phone import parse_e164
from intelliauth_sms.services import sql
from intelliauth_sms.services.flows import start_flow
from tests.factories import SmsFactorFactory

pytestmark = pytest.mark.django_db


def test_an_update_writes_what_the_orm_reads_back_and_only_where_asked(user: Any) -> None:
    factor = SmsFactorFactory(user=user)
    flow, other = start_flow(user), start_flow(user)
    when = timezone.now() - timedelta(minutes=3)

    changed = sql.update(AuthFlow, {"id": flow.pk}, {"verified_at": when, "factor_id": factor.pk})

    assert changed == 1
    flow.refresh_from_db()
    other.refresh_from_db()
    assert flow.verified_at == when and flow.factor == factor
    assert other.verified_at is None and other.factor_id is None


def test_an_emptied_number_is_stored_empty_and_a_miss_changes_nothing(user: Any) -> None:
    enrolment = PendingEnrolment(user=user, tenant=Tenant.objects.get(slug="default"))
    enrolment.set_phone(parse_e164("+14155550100"))
    enrolment.save()

    assert sql.update(PendingEnrolment, {"id": enrolment.pk}, {"phone_number": ""}) == 1
    assert not PendingEnrolment.objects.exclude(phone_number="").exists()
    assert (
        sql.update(
            PendingEnrolment,
            {"id": enrolment.pk, "user_id": user.pk + 1},
            {"completed_at": timezone.now()},
        )
        == 0
    )
    enrolment.refresh_from_db()
    assert enrolment.completed_at is None


def test_an_exact_none_is_refused_and_update_one_needs_its_row(user: Any) -> None:
    from django.db import DatabaseError

    with pytest.raises(ValueError, match="isnull"):
        sql.condition(AuthFlow, {"factor_id": None})
    flow = start_flow(user)
    with pytest.raises(DatabaseError):
        sql.update_one(AuthFlow, {"id": flow.pk, "user_id": user.pk + 1}, {"verified_at": None})
    sql.update_one(AuthFlow, {"id": flow.pk}, {"verified_at": None})  # one row: fine
