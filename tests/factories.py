"""factory-boy factories for the app's models."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from intelliauth_sms.models import (
    CountryRule,
    FactorPurpose,
    SmsFactor,
    Tenant,
    TenantMembership,
)
from intelliauth_sms.phone import parse_e164


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantMembership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = TenantMembership.Role.MEMBER


class CountryRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CountryRule

    tenant = factory.SubFactory(TenantFactory)
    country = "US"
    action = CountryRule.Action.PRICE_ONLY
    unit_cost = Decimal("0.0100")
    high_cost = False


class SmsFactorFactory(factory.django.DjangoModelFactory):
    """An enrolled factor; pass ``phone="+1..."`` to choose the number."""

    class Meta:
        model = SmsFactor
        exclude = ("phone",)

    user = factory.SubFactory(UserFactory)
    tenant = factory.LazyFunction(lambda: Tenant.objects.get(slug="default"))
    purpose = FactorPurpose.MFA
    phone = "+14155550100"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        phone = kwargs.pop("phone_number", None)
        factor = model_class(*args, **kwargs)
        factor.set_phone(parse_e164(phone or "+14155550100"))
        factor.save()
        return factor

    phone_number = factory.SelfAttribute("phone")
