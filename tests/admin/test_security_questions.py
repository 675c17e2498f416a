"""Tenant admins offer their own security questions in the console (issue 8)."""

from __future__ import annotations

from typing import Any

import pytest

from intelliauth_sms.models import AuditEvent, EventType, SecurityQuestion
from tests.admin.conftest import ADMIN, management_data
from tests.mfa import verified_token

QUESTIONS_URL = "/api/mfa/sms/security-questions/"

pytestmark = pytest.mark.django_db


def add_question(client: Any, tenant: Any, text: str) -> Any:
    url = f"{ADMIN}/tenant/{tenant.pk}/change/"
    data = management_data(client.get(url))
    total = int(data["security_questions-TOTAL_FORMS"])
    data["security_questions-TOTAL_FORMS"] = str(total + 1)
    data[f"security_questions-{total}-text"] = text
    data[f"security_questions-{total}-is_active"] = "on"
    return client.post(url, data)


def test_a_tenant_admin_adds_a_question_its_members_are_offered(
    side_a: Any, side_b: Any, login: Any
) -> None:
    from rest_framework.test import APIClient

    response = add_question(login(side_a.admin), side_a.tenant, "Which office do you work in?")

    assert response.status_code == 302, response.content.decode()[:2000]
    question = SecurityQuestion.objects.get(tenant=side_a.tenant)
    change = AuditEvent.objects.get(event_type=EventType.POLICY_CHANGED)
    assert change.detail["target"] == "security_question" and change.actor == side_a.admin
    member = APIClient()
    member.force_authenticate(side_a.member, token=verified_token())
    offered = member.get(QUESTIONS_URL).json()
    assert offered[-1] == {"id": f"tenant-{question.id}", "text": "Which office do you work in?"}
    other = APIClient()
    other.force_authenticate(side_b.member, token=verified_token())
    assert all(q["id"] != f"tenant-{question.id}" for q in other.get(QUESTIONS_URL).json())


def test_another_tenants_admin_cannot_add_questions_to_it(
    side_a: Any, side_b: Any, login: Any
) -> None:
    client = login(side_b.admin)
    response = client.get(f"{ADMIN}/tenant/{side_a.tenant.pk}/change/")
    assert response.status_code in (302, 403, 404)
    assert not SecurityQuestion.objects.exists()
