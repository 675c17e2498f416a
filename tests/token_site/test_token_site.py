"""The README's token-site example, end to end over HTTP (issue 7, "Token sites")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from intelliauth_sms.api import views
from intelliauth_sms.flows import FlowNotUsable, claim_verified_flow, start_flow
from tests.api import BASE, PHONE, reveal_url
from tests.conftest import last_code
from tests.factories import SmsFactorFactory
from tests.token_site import BearerTokenAuthentication, issue_token


@pytest.fixture(autouse=True)
def token_site(monkeypatch: pytest.MonkeyPatch) -> None:
    """The site's DRF authentication classes are its bearer tokens."""
    for view in (views.SignedInView, *views.SignedInView.__subclasses__()):
        monkeypatch.setattr(view, "authentication_classes", [BearerTokenAuthentication])


@pytest.fixture
def factor(user: Any) -> Any:
    return SmsFactorFactory(user=user, phone=PHONE)


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def pass_sms_step(client: APIClient, user: Any, outbox: list[Any], capture: Any) -> str:
    """The site's sign-in: password accepted → flow → SMS step by the client → token."""
    flow = start_flow(user)  # no request: the flow id is the capability
    with capture(execute=True):
        sent = client.post(f"{BASE}flows/{flow.id}/sms/initiate/", {}, format="json")
    assert sent.status_code == 202, sent.content
    checked = client.post(
        f"{BASE}flows/{flow.id}/sms/complete/", {"code": last_code(outbox)}, format="json"
    )
    assert checked.status_code == 200, checked.content
    claimed = claim_verified_flow(flow.id)
    assert claimed == user
    with pytest.raises(FlowNotUsable):
        claim_verified_flow(flow.id)  # once only: no second token from one step
    return issue_token(claimed, mfa_verified_at=timezone.now())


def test_a_token_issued_after_the_sms_step_reaches_every_endpoint(
    user: Any, factor: Any, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = APIClient()
    token = pass_sms_step(client, user, outbox, django_capture_on_commit_callbacks)
    assert client.get(f"{BASE}factors/", **bearer(token)).status_code == 200
    revealed = client.post(reveal_url(factor.id), {}, format="json", **bearer(token))
    assert revealed.status_code == 200
    assert revealed.json() == {"phone_number": PHONE}


def test_a_password_only_token_gets_mfa_required(user: Any, factor: Any) -> None:
    token = issue_token(user, mfa_verified_at=None)
    response = APIClient().get(f"{BASE}factors/", **bearer(token))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_required"


def test_an_old_token_needs_a_new_step_for_sensitive_actions_and_gets_one(
    user: Any, factor: Any, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = APIClient()
    token = pass_sms_step(client, user, outbox, django_capture_on_commit_callbacks)
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert client.get(f"{BASE}factors/", **bearer(token)).status_code == 200
        stale = client.post(reveal_url(factor.id), {}, format="json", **bearer(token))
        assert stale.status_code == 403
        assert stale.json()["error"]["code"] == "reauthentication_required"
        # A token site re-authenticates with a new flow and a new token.
        fresh = pass_sms_step(client, user, outbox, django_capture_on_commit_callbacks)
        again = client.post(reveal_url(factor.id), {}, format="json", **bearer(fresh))
        assert again.status_code == 200


def test_a_forged_token_is_not_authenticated(user: Any, factor: Any) -> None:
    token = issue_token(user, mfa_verified_at=timezone.now())
    response = APIClient().get(f"{BASE}factors/", **bearer(token[:-2] + "xx"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_token_site_recovers_an_account_and_issues_a_token_once(
    user: Any, outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    from intelliauth_sms.models import FactorPurpose, TenantPolicy
    from intelliauth_sms.services.recovery import claim_recovery

    TenantPolicy.objects.filter(tenant__slug="default").update(allow_sms_recovery=True)
    backup = SmsFactorFactory(user=user, phone="+447911123456", purpose=FactorPurpose.BACKUP)
    client = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            f"{BASE}recovery/",
            {"username": "alice", "password": "correct horse battery staple"},
            format="json",
        )
    assert started.status_code == 202, started.content
    recovery_id = started.json()["id"]
    with pytest.raises(FlowNotUsable):
        claim_recovery(recovery_id)  # not recovered yet
    done = client.post(
        f"{BASE}recovery/{recovery_id}/complete/", {"code": last_code(outbox)}, format="json"
    )
    assert done.status_code == 200
    assert claim_recovery(recovery_id) == user
    with pytest.raises(FlowNotUsable):
        claim_recovery(recovery_id)
    token = issue_token(user, mfa_verified_at=timezone.now())
    revealed = client.post(reveal_url(backup.id), {}, format="json", **bearer(token))
    assert revealed.status_code == 200
