"""Fixtures: a user with a sign-in phone and a backup phone, and a tenant that allows recovery."""

from __future__ import annotations

from typing import Any

import pytest

from intelliauth_sms.models import FactorPurpose, SmsFactor, Tenant, TenantPolicy
from tests.factories import SmsFactorFactory
from tests.recovery import BACKUP_PHONE, MFA_PHONE


@pytest.fixture
def policy(db: Any) -> TenantPolicy:
    """The default tenant's policy, with SMS recovery allowed."""
    policy = TenantPolicy.objects.get(tenant=Tenant.objects.get(slug="default"))
    policy.allow_sms_recovery = True
    policy.save()
    return policy


@pytest.fixture
def backup(user: Any) -> SmsFactor:
    """``user`` (alice) has a sign-in phone and a verified backup phone."""
    SmsFactorFactory(user=user, phone=MFA_PHONE)
    return SmsFactorFactory(  # type: ignore[no-any-return]
        user=user, phone=BACKUP_PHONE, purpose=FactorPurpose.BACKUP
    )
