"""``reads.read_one``: the flow with its user, tenant and factor, read by
one plain SQL statement, equal field by field to what ``select_related`` reads (SQLite
here; PostgreSQL in the services tier), locking where asked."""

from __future__ import annotations

import gc
import threading
import uuid
import weakref
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import Model
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intelliauth_sms.models import AuthFlow, CodeState, FlowKind, SmsCode, SmsFactor
from intelliauth_sms.services.context import Caller
from intelliauth_sms.services.flows import start_flow
from intelliauth_sms.services.reads import read_one
from tests.core.conftest import SmsDriver
from tests.factories import SmsFactorFactory

pytestmark = pytest.mark.django_db

RELATED = ("user", "tenant", "factor")


def values(instance: Model) -> dict[str, Any]:
    fields: Any = instance._meta.concrete_fields
    return {field.attname: getattr(instance, field.attname) for field in fields}


def read(flow: AuthFlow, **lookups: Any) -> AuthFlow | None:
    return read_one(AuthFlow, {"id": flow.id, **lookups}, related=RELATED)


def test_the_flow_and_its_related_rows_equal_what_select_related_reads(user: Any) -> None:
    factor = SmsFactorFactory(user=user, phone_number="+14155550100")
    flow = start_flow(user)
    flow.factor = factor
    flow.verified_at = timezone.now()
    flow.save()
    expected = AuthFlow.objects.select_related(*RELATED).get(pk=flow.pk)

    with CaptureQueriesContext(connection) as captured:
        found = read(flow)
        assert found is not None
        related = (found.user, found.tenant, found.factor)  # no query: already set

    assert len(captured.captured_queries) == 1
    assert values(found) == values(expected)
    for mine, theirs in zip(
        related, (expected.user, expected.tenant, expected.factor), strict=True
    ):
        assert theirs is not None and mine is not None
        assert type(mine) is type(theirs) and values(mine) == values(theirs)
    assert str(found.factor.phone_number) == "+14155550100"  # decrypted, as the ORM does
    assert not found._state.adding and found._state.db == "default"


def test_a_null_foreign_key_reads_as_none_and_lookups_filter(user: Any) -> None:
    flow = start_flow(user)

    found = read(flow, kind__in=(FlowKind.SIGN_IN,), expires_at__gt=timezone.now())

    assert found is not None and found.factor is None and found.factor_id is None
    assert read(flow, kind__in=(FlowKind.RECOVERY,)) is None
    assert read(flow, expires_at__gt=timezone.now() + timedelta(days=1)) is None


def test_a_locking_read_locks_only_the_flow_where_the_database_can(user: Any) -> None:
    flow = start_flow(user)

    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        found = read_one(AuthFlow, {"id": flow.id}, related=RELATED, lock=True)

    assert found is not None and found.pk == flow.pk
    [statement] = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    if connection.features.has_select_for_update_of:  # PostgreSQL
        assert statement.endswith("FOR UPDATE OF m")  # not the joined user, tenant, factor
    else:  # SQLite serialises writers instead
        assert "FOR UPDATE" not in statement


@pytest.mark.django_db(transaction=True)
def test_a_locking_read_outside_a_transaction_is_refused(user: Any) -> None:
    flow = start_flow(user)

    with pytest.raises(TransactionManagementError):
        read_one(AuthFlow, {"id": flow.id}, related=RELATED, lock=True)


def test_first_by_orders_several_matching_rows_and_takes_the_first(
    sms: SmsDriver, caller: Caller, clock: Any
) -> None:
    first = sms.send(caller, deliver=False)
    clock.shift(5)
    second = sms.send(caller, subject=first.subject, deliver=False)

    newest = read_one(SmsCode, {"subject_id": first.subject}, first_by="-created_at")
    replaced = read_one(
        SmsCode,
        {"subject_id": first.subject, "state": CodeState.REPLACED},
        first_by="-created_at",
    )

    oldest = read_one(SmsCode, {"subject_id": first.subject}, first_by="created_at")
    assert newest is not None and newest.pk == second.issued.code.pk
    assert oldest is not None and oldest.pk == first.issued.code.pk
    assert replaced is not None and replaced.pk == first.issued.code.pk
    with pytest.raises(SmsCode.MultipleObjectsReturned):
        read_one(SmsCode, {"subject_id": first.subject})  # without first_by: one row only


def test_only_models_in_one_table_are_joined() -> None:
    from django.contrib.auth import get_user_model

    from intelliauth_sms.services.reads import _spans_tables

    assert not _spans_tables(get_user_model()) and not _spans_tables(AuthFlow)
    # A model with multi-table inheritance has fields in its parent's table too.
    child: Any = type("Meta", (), {"concrete_fields": (1, 2, 3), "local_concrete_fields": (3,)})
    assert _spans_tables(type("Child", (), {"_meta": child}))  # type: ignore[arg-type]


def test_a_key_whose_joined_row_is_missing_is_kept_not_cleared(user: Any) -> None:
    # As after waiting for the lock of a row another transaction changed: the key is new
    # and the joined columns are empty. (The foreign key is checked at commit: the test's
    # transaction is rolled back before.)
    flow = start_flow(user)
    missing = uuid.uuid4()
    set_factor_id(flow, missing)
    try:
        found = read(flow)

        assert found is not None and found.factor_id == missing
        with pytest.raises(SmsFactor.DoesNotExist):
            _ = found.factor  # loaded on first use, not taken for "no factor"
    finally:
        set_factor_id(flow, None)  # before the test's own constraint check at its end


def set_factor_id(flow: AuthFlow, value: uuid.UUID | None) -> None:
    prepare = AuthFlow._meta.pk.get_db_prep_value
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE intelliauth_sms_authflow SET factor_id = %s WHERE id = %s",
            [None if value is None else prepare(value, connection), prepare(flow.pk, connection)],
        )


@pytest.mark.django_db(transaction=True)
def test_a_thread_s_connection_is_not_kept_alive_by_the_read_cache(user: Any) -> None:
    flow = start_flow(user)
    wrappers: list[Any] = []

    def read_in_a_thread() -> None:
        try:
            assert read(flow) is not None
            wrappers.append(weakref.ref(connections["default"]))
        finally:
            connection.close()

    thread = threading.Thread(target=read_in_a_thread)
    thread.start()
    thread.join(30)
    gc.collect()

    assert len(wrappers) == 1 and wrappers[0]() is None
