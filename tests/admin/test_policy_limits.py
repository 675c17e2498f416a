"""Each policy limit's range is defined once (``models.policy_limits``): the model's
validators and the console form's bounds and message both follow it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict

from intelliauth_sms.admin.forms import TenantPolicyForm
from intelliauth_sms.models import Tenant, TenantPolicy
from intelliauth_sms.models.policy_limits import POLICY_LIMITS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", sorted(POLICY_LIMITS))
def test_the_model_and_the_form_accept_exactly_the_defined_range(name: str) -> None:
    limit = POLICY_LIMITS[name]
    policy = TenantPolicy.objects.get(tenant=Tenant.objects.get(slug="default"))
    field = TenantPolicy._meta.get_field(name)
    data: dict[str, Any] = {
        k: v for k, v in model_to_dict(policy).items() if v is not None and k != "tenant"
    }
    # disable_after_failures must be at least max_failed_attempts: keep that rule out of it.
    data["max_failed_attempts"] = 1
    data["disable_after_failures"] = POLICY_LIMITS["disable_after_failures"].maximum

    for value in (limit.minimum, limit.maximum):
        field.run_validators(value)
        assert TenantPolicyForm(data={**data, name: value}, instance=policy).is_valid()
    for value in (limit.minimum - 1, limit.maximum + 1):
        with pytest.raises(ValidationError):
            field.run_validators(value)
        form = TenantPolicyForm(data={**data, name: value}, instance=policy)
        assert not form.is_valid()
        assert form.errors[name] == [str(limit.message)]
