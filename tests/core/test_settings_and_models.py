"""App settings, tenants and their policy, migrations, and the append-only audit trail."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, models, transaction
from django.test import override_settings
from django.utils import timezone

from intelliauth_sms.conf import DEFAULTS, app_settings
from intelliauth_sms.models import (
    AuditEvent,
    EventType,
    Outcome,
    SmsCode,
    SmsMessage,
    Tenant,
    TenantMembership,
    TenantPolicy,
)
from intelliauth_sms.services.context import Caller
from intelliauth_sms.tenancy import resolve_tenant_by_membership, tenant_for
from tests.factories import MembershipFactory, TenantFactory, UserFactory

#: CONTRACT §2, every field of TenantPolicy with its default.
CONTRACT_POLICY_DEFAULTS = {
    "enrolment_sms_per_hour": 5,
    "auth_sms_per_hour": 3,
    "ip_sms_per_hour": 20,
    "max_failed_attempts": 5,
    "lockout_minutes": 15,
    "disable_after_failures": 20,
    "code_ttl_seconds": 300,
    "daily_high_cost_cap": None,
    "allow_sms_recovery": False,
    "recovery_requires_security_answers": False,
    "user_auth_sms_per_hour": 10,
    "destination_sms_per_hour": 10,
    "pumping_protection": "enforce",
}


# --- settings -------------------------------------------------------------------------------


def test_app_settings_follow_override_settings_on_every_read() -> None:
    assert app_settings.SMS_BACKEND == "intelliauth_sms.backends.locmem.SmsBackend"
    with override_settings(INTELLIAUTH_SMS={"SMS_BACKEND": "x.y.Z", "FLOW_TTL_SECONDS": 60}):
        assert app_settings.SMS_BACKEND == "x.y.Z"
        assert app_settings.FLOW_TTL_SECONDS == 60
    assert app_settings.SMS_BACKEND == "intelliauth_sms.backends.locmem.SmsBackend"
    assert app_settings.FLOW_TTL_SECONDS == 600


def test_app_settings_follow_the_pytest_django_settings_fixture(settings: Any) -> None:
    settings.INTELLIAUTH_SMS = {"MESSAGE_TEMPLATE": "Code {code}", "REQUEST_RATE": None}
    assert app_settings.MESSAGE_TEMPLATE == "Code {code}"
    assert app_settings.REQUEST_RATE is None

    settings.INTELLIAUTH_SMS = {"CELERY_QUEUE": "sms"}
    assert app_settings.CELERY_QUEUE == "sms"
    template = app_settings.MESSAGE_TEMPLATE
    assert template == DEFAULTS["MESSAGE_TEMPLATE"]


def test_missing_keys_and_a_missing_setting_fall_back_to_the_defaults(settings: Any) -> None:
    del settings.INTELLIAUTH_SMS
    for name, default in DEFAULTS.items():
        if name == "HASH_KEY":
            continue
        assert getattr(app_settings, name) == default, name


def test_the_hash_key_defaults_to_secret_key_and_can_be_set(settings: Any) -> None:
    settings.SECRET_KEY = "s3cret"
    assert app_settings.HASH_KEY == "s3cret"
    settings.INTELLIAUTH_SMS = {"HASH_KEY": "separate"}
    assert app_settings.HASH_KEY == "separate"


def test_app_settings_never_write_into_django_settings(settings: Any) -> None:
    from django.conf import settings as django_settings

    settings.INTELLIAUTH_SMS = {}
    _ = app_settings.SMS_BACKEND, app_settings.REQUEST_RATE
    assert django_settings.INTELLIAUTH_SMS == {}
    assert not hasattr(django_settings, "SMS_BACKEND")


def test_the_celery_queue_setting_routes_the_delivery_task(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery import current_app

    from intelliauth_sms import tasks
    from intelliauth_sms.services import dispatch

    sent: list[dict[str, Any]] = []
    # Published, as on a site with a broker (the tests otherwise run tasks eagerly).
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(
        tasks.deliver_sms, "apply_async", lambda args, **options: sent.append(options)
    )
    dispatch.deliver_sms("id", "sealed")
    settings.INTELLIAUTH_SMS = {"CELERY_QUEUE": "sms"}
    dispatch.deliver_sms("id", "sealed")

    assert [options.get("queue") for options in sent] == [None, "sms"]
    # Publishing never hangs a request on a dead broker: one quick retry at most.
    assert all(options["retry_policy"]["max_retries"] == 1 for options in sent)


def test_run_eagerly_string_arguments_skip_the_broker_round_trip_and_others_keep_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from intelliauth_sms import tasks
    from intelliauth_sms.services import dispatch

    calls: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(
        tasks.deliver_sms, "apply", lambda args, **options: calls.append(("apply", args))
    )
    monkeypatch.setattr(
        tasks.send_security_email,
        "apply_async",
        lambda args, **options: calls.append(("apply_async", args)),
    )

    assert dispatch.deliver_sms("id", "sealed", "fr")
    assert dispatch.security_email(7, "factor_added", {"when": 1})

    assert calls == [
        ("apply", ("id", "sealed", "fr")),
        # Not all strings: through apply_async, whose JSON round trip mimics the broker.
        ("apply_async", (7, "factor_added", {"when": 1}, "", "")),
    ]


# --- tenants and policy ---------------------------------------------------------------------


@pytest.mark.django_db
def test_migrate_creates_the_default_tenant_and_its_policy() -> None:
    tenant = Tenant.objects.get(slug="default")
    assert TenantPolicy.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db(transaction=True)
def test_the_default_tenant_and_its_policy_exist_again_after_flush() -> None:
    TenantFactory(slug="acme")
    call_command("flush", interactive=False, verbosity=0)

    assert list(Tenant.objects.values_list("slug", flat=True)) == ["default"]
    policy = TenantPolicy.objects.get(tenant__slug="default")
    assert policy.enrolment_sms_per_hour == 5


@pytest.mark.django_db
def test_a_new_tenant_gets_a_policy_with_every_contract_default() -> None:
    tenant = Tenant.objects.create(name="Acme", slug="acme")

    policy = TenantPolicy.objects.get(tenant=tenant)
    assert {name: getattr(policy, name) for name in CONTRACT_POLICY_DEFAULTS} == (
        CONTRACT_POLICY_DEFAULTS
    )


def test_the_contract_defaults_cover_every_policy_setting() -> None:
    settings_fields = {
        f.name
        for f in TenantPolicy._meta.get_fields()
        if isinstance(f, models.Field) and not f.is_relation and not f.auto_created
    } - {"updated_at"}
    assert settings_fields == set(CONTRACT_POLICY_DEFAULTS)


@pytest.mark.django_db
def test_saving_a_tenant_again_does_not_touch_its_policy() -> None:
    tenant = TenantFactory()
    TenantPolicy.objects.filter(tenant=tenant).update(ip_sms_per_hour=7)
    tenant.name = "Renamed"
    tenant.save()
    assert TenantPolicy.objects.get(tenant=tenant).ip_sms_per_hour == 7


@pytest.mark.django_db
def test_the_policy_cap_keeps_cents(db: Any) -> None:
    tenant = TenantFactory()
    TenantPolicy.objects.filter(tenant=tenant).update(daily_high_cost_cap=Decimal("12.3456"))
    assert TenantPolicy.objects.get(tenant=tenant).daily_high_cost_cap == Decimal("12.3456")


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    out = StringIO()
    call_command("makemigrations", "intelliauth_sms", check=True, dry_run=True, stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "field_name"),
    [(SmsMessage, "user"), (SmsMessage, "tenant"), (SmsCode, "user")],
)
def test_a_foreign_key_without_an_index_of_its_own_leads_a_composite_index(
    model: type[models.Model], field_name: str
) -> None:
    """Migration 0014 dropped these single-column indexes: lookups and cascades by the key
    must still find an index that starts with it, in the database as migrated."""
    column = model._meta.get_field(field_name).column
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    indexes = [c["columns"] for c in constraints.values() if c["index"] and not c["primary_key"]]

    assert [column] not in indexes
    assert any(len(columns) > 1 and columns[0] == column for columns in indexes)


# --- tenant resolution ----------------------------------------------------------------------


_RESOLVED: dict[str, Any] = {}


def resolve_to_acme(user: Any) -> Tenant:
    """A site's resolver, configured by dotted path in the tests below."""
    _RESOLVED["user"] = user
    return Tenant.objects.get(slug="acme")


def resolve_to_nothing(user: Any) -> None:
    return None


@pytest.mark.django_db
def test_a_custom_tenant_resolver_is_honoured(settings: Any, user: Any) -> None:
    acme = TenantFactory(slug="acme")
    settings.INTELLIAUTH_SMS = {
        "TENANT_RESOLVER": "tests.core.test_settings_and_models.resolve_to_acme"
    }

    assert tenant_for(user) == acme
    assert Caller.for_user(user).tenant == acme
    assert _RESOLVED["user"] == user


@pytest.mark.django_db
def test_the_custom_resolvers_tenant_policy_governs_sends(
    settings: Any, user: Any, sms: Any
) -> None:
    from intelliauth_sms.exceptions import RateLimited
    from intelliauth_sms.models import CodePurpose

    acme = TenantFactory(slug="acme")
    TenantPolicy.objects.filter(tenant=acme).update(enrolment_sms_per_hour=1)
    settings.INTELLIAUTH_SMS = {
        "SMS_BACKEND": "intelliauth_sms.backends.locmem.SmsBackend",
        "TENANT_RESOLVER": "tests.core.test_settings_and_models.resolve_to_acme",
    }
    caller = Caller.for_user(user)
    sent = sms.send(caller, purpose=CodePurpose.ENROLMENT)

    assert sent.message.tenant == acme
    with pytest.raises(RateLimited):
        sms.send(caller, purpose=CodePurpose.ENROLMENT)


@pytest.mark.django_db
def test_a_resolver_that_returns_no_tenant_is_refused(settings: Any, user: Any) -> None:
    settings.INTELLIAUTH_SMS = {
        "TENANT_RESOLVER": "tests.core.test_settings_and_models.resolve_to_nothing"
    }
    with pytest.raises(TypeError, match="TENANT_RESOLVER"):
        tenant_for(user)


@pytest.mark.django_db
def test_the_membership_resolver_uses_the_users_membership(user: Any) -> None:
    acme, globex = TenantFactory(), TenantFactory()
    MembershipFactory(user=user, tenant=acme, role=TenantMembership.Role.SUPPORT)
    MembershipFactory(user=user, tenant=globex)

    assert resolve_tenant_by_membership(user) == acme  # the earliest membership
    assert tenant_for(user) == acme


@pytest.mark.django_db
def test_the_earliest_membership_wins_not_the_lowest_tenant(user: Any) -> None:
    older_tenant, newer_tenant = TenantFactory(), TenantFactory()
    MembershipFactory(user=user, tenant=newer_tenant)  # joined first
    MembershipFactory(user=user, tenant=older_tenant)

    assert older_tenant.pk < newer_tenant.pk
    assert resolve_tenant_by_membership(user) == newer_tenant


@pytest.mark.django_db
def test_an_unsaved_user_has_no_tenant() -> None:
    with pytest.raises(ValueError, match="saved user"):
        resolve_tenant_by_membership(UserFactory.build())


@pytest.mark.django_db
def test_the_membership_resolver_falls_back_to_the_default_tenant(user: Any) -> None:
    MembershipFactory(user=UserFactory(username="someone-else"))

    assert resolve_tenant_by_membership(user).slug == "default"


@pytest.mark.django_db
def test_the_default_tenant_is_recreated_if_it_was_deleted(user: Any) -> None:
    Tenant.objects.filter(slug="default").delete()

    tenant = resolve_tenant_by_membership(user)

    assert tenant.slug == "default"
    assert TenantPolicy.objects.filter(tenant=tenant).exists()


# --- the append-only audit trail ------------------------------------------------------------


@pytest.fixture
def event(db: Any, user: Any) -> AuditEvent:
    return AuditEvent.objects.create(
        created_at=timezone.now(),
        event_type=EventType.SMS_SENT,
        outcome=Outcome.SUCCESS,
        user=user,
        tenant=Tenant.objects.get(slug="default"),
        phone_last4="0100",
    )


def test_an_audit_event_cannot_be_saved_again(event: AuditEvent) -> None:
    event.outcome = Outcome.FAILURE
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).outcome == Outcome.SUCCESS


def test_an_audit_event_cannot_be_deleted(event: AuditEvent) -> None:
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_events_cannot_be_updated_or_deleted_in_bulk(event: AuditEvent) -> None:
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(outcome=Outcome.FAILURE)
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.all().delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.update(phone_last4="")
    event.phone_last4 = "9999"
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["phone_last4"])
    assert AuditEvent.objects.get(pk=event.pk).phone_last4 == "0100"


@pytest.mark.django_db
def test_audit_events_are_still_appended(user: Any) -> None:
    from intelliauth_sms.services import audit

    audit.record(EventType.CODE_CHECKED, Caller.for_user(user), failure_code="")
    audit.record(EventType.CODE_CHECKED, Caller.for_user(user), failure_code="invalid_code")
    assert AuditEvent.objects.count() == 2


@pytest.mark.django_db
def test_an_audit_event_refuses_more_than_four_digits_of_a_number(user: Any) -> None:
    from intelliauth_sms.services import audit

    with pytest.raises(ValueError, match="last 4"):
        audit.record(EventType.SMS_SENT, Caller.for_user(user), phone_last4="550100")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_deleting_a_user_keeps_their_audit_events(event: AuditEvent, user: Any) -> None:
    user.delete()

    kept = AuditEvent.objects.get(pk=event.pk)
    assert kept.user is None and kept.phone_last4 == "0100"


def test_code_ttl_above_ten_minutes_is_refused_by_the_model_and_the_database(db: Any) -> None:
    """CONTRACT §2: 30 <= code_ttl_seconds <= 600, in validation and in a save from code."""
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    from intelliauth_sms.models import Tenant

    policy = Tenant.objects.get(slug="default").policy
    policy.code_ttl_seconds = 900
    with pytest.raises(ValidationError):
        policy.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        policy.save()
    policy.code_ttl_seconds = 600
    policy.full_clean()
    policy.save()


def test_keyed_hashes_are_the_same_bytes_as_before_salted_hmac(settings: Any) -> None:
    """Stored phone and code hashes must keep matching: no data migration was made."""
    import hashlib
    import hmac

    from intelliauth_sms.crypto import keyed_hash

    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "HASH_KEY": "k3y"}
    key = hashlib.sha256(b"intelliauth_sms:phone:k3y").digest()
    expected = hmac.new(key, b"+14155550100", hashlib.sha256).hexdigest()
    assert keyed_hash("phone", "+14155550100") == expected
