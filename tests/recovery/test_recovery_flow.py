"""``POST recovery/`` and ``recovery/{id}/complete/``: policy, backup-only delivery, codes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from intelliauth_sms import signals
from intelliauth_sms.models import (
    AuditEvent,
    AuthFlow,
    CountryRule,
    FactorPurpose,
    FlowKind,
    SmsFactor,
    SmsMessage,
    Tenant,
    TenantPolicy,
)
from tests.conftest import last_code
from tests.factories import SmsFactorFactory
from tests.malformed_codes import MALFORMED_CODES
from tests.recovery import (
    BACKUP_PHONE,
    BASE,
    MFA_PHONE,
    PASSWORD,
    error_of,
    finish,
    start,
)


def test_policy_off_refuses_valid_credentials_with_recovery_not_allowed_and_sends_nothing(
    anon_api: Any, backup: SmsFactor, outbox: list[Any], mailoutbox: list[Any]
) -> None:
    response = start(anon_api)

    assert response.status_code == 403
    assert error_of(response) == {
        "code": "recovery_not_allowed",
        "message": "Account recovery by SMS isn't available for this account.",
    }
    assert outbox == [] and mailoutbox == []
    assert not AuthFlow.objects.filter(kind=FlowKind.RECOVERY).exists()
    refused = AuditEvent.objects.get(event_type="recovery_refused")
    assert (refused.failure_code, refused.is_recovery, refused.detail["reason"]) == (
        "recovery_not_allowed",
        True,
        "policy_off",
    )


def test_without_a_backup_phone_recovery_is_not_allowed(
    anon_api: Any, policy: TenantPolicy, user: Any, outbox: list[Any]
) -> None:
    SmsFactorFactory(user=user, phone=MFA_PHONE)  # a sign-in phone is never used for it

    response = start(anon_api)

    assert response.status_code == 403
    assert error_of(response)["code"] == "recovery_not_allowed"
    assert outbox == []
    assert AuditEvent.objects.get(event_type="recovery_refused").detail["reason"] == (
        "no_backup_phone"
    )


def test_the_code_goes_to_the_backup_phone_only(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any]
) -> None:
    response = start(anon_api)

    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"id", "status", "phone_number_masked"}
    assert body["status"] == "pending"
    assert body["phone_number_masked"] == "•••• 3456"
    assert [sms.to for sms in outbox] == [BACKUP_PHONE]
    recovery = AuthFlow.objects.get(pk=body["id"])
    assert recovery.kind == FlowKind.RECOVERY and recovery.factor == backup
    message = SmsMessage.objects.get(subject_id=recovery.id)
    assert message.purpose == "recovery"


def test_completing_recovers_fires_the_signal_and_records_the_trail(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any], user: Any
) -> None:
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    signals.recovery_completed.connect(receiver)
    requested: list[dict[str, Any]] = []

    def on_request(sender: Any, **kwargs: Any) -> None:
        requested.append(kwargs)

    signals.recovery_requested.connect(on_request)
    try:
        recovery_id = start(anon_api).json()["id"]
        response = finish(anon_api, recovery_id, last_code(outbox))
    finally:
        signals.recovery_completed.disconnect(receiver)
        signals.recovery_requested.disconnect(on_request)

    assert response.status_code == 200
    assert response.json() == {"status": "recovered"}
    assert [r["user"] for r in requested] == [user]
    assert [(r["user"], str(r["recovery"].id)) for r in received] == [(user, recovery_id)]
    events = AuditEvent.objects.filter(is_recovery=True).order_by("id")
    types = [e.event_type for e in events]
    for expected in ("sms_sent", "recovery_requested", "code_checked", "recovery_completed"):
        assert expected in types, types
    assert all(e.phone_last4 in ("", "3456") for e in events)
    assert all(e.user_id == user.pk for e in events)


def test_a_code_works_once_and_only_while_it_is_the_latest(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any]
) -> None:
    first_id = start(anon_api).json()["id"]
    first_code = last_code(outbox)
    second_id = start(anon_api).json()["id"]
    second_code = last_code(outbox)

    assert finish(anon_api, second_id, second_code).status_code == 200
    again = finish(anon_api, second_id, second_code)
    assert again.status_code == 400 and error_of(again)["code"] == "code_expired"
    # Another recovery's code is not this recovery's: it counts as wrong here.
    cross = finish(anon_api, first_id, second_code)
    assert cross.status_code == 400 and error_of(cross)["code"] == "invalid_code"
    assert finish(anon_api, first_id, first_code).status_code == 200


def test_a_recovery_expires_like_a_flow(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any]
) -> None:
    recovery_id = start(anon_api).json()["id"]
    code = last_code(outbox)
    with time_machine.travel(timezone.now() + timedelta(seconds=601)):
        response = finish(anon_api, recovery_id, code)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_recovery_ids_and_flow_ids_do_not_mix(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any], user: Any
) -> None:
    from intelliauth_sms.flows import start_flow

    recovery_id = start(anon_api).json()["id"]
    code = last_code(outbox)
    on_flow_endpoint = anon_api.post(
        f"{BASE}flows/{recovery_id}/sms/complete/", {"code": code}, format="json"
    )
    assert on_flow_endpoint.status_code == 404
    sign_in = start_flow(user)
    assert finish(anon_api, sign_in.id, code).status_code == 404
    assert not AuthFlow.objects.get(pk=recovery_id).is_verified


def test_the_gate_applies_to_recovery_country_rules(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any]
) -> None:
    CountryRule.objects.create(
        tenant=Tenant.objects.get(slug="default"), country="GG", action=CountryRule.Action.BLOCK
    )
    response = start(anon_api)
    assert response.status_code == 403
    assert error_of(response)["code"] == "country_not_allowed"
    assert outbox == []
    assert not AuthFlow.objects.filter(kind=FlowKind.RECOVERY).exists()
    refused = AuditEvent.objects.filter(event_type="recovery_refused").get()
    assert refused.failure_code == "country_not_allowed" and refused.phone_last4 == "3456"


def test_the_failed_code_lockout_spans_recovery_and_sign_in(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any], user: Any
) -> None:
    from intelliauth_sms.flows import start_flow

    recovery_id = start(anon_api).json()["id"]
    code = last_code(outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    answers = [finish(anon_api, recovery_id, wrong) for _ in range(policy.max_failed_attempts)]
    assert [error_of(a)["code"] for a in answers][-1] == "locked"
    flow = start_flow(user)
    sign_in = anon_api.post(f"{BASE}flows/{flow.id}/sms/initiate/", {}, format="json")
    assert sign_in.status_code == 429
    assert error_of(sign_in)["code"] == "locked"
    assert finish(anon_api, recovery_id, code).status_code == 429


def test_recovery_per_recovery_send_limit_is_the_auth_limit(
    anon_api: Any, policy: TenantPolicy, backup: SmsFactor
) -> None:
    """Each POST is a new recovery; the per-user and per-IP limits still bound the sends."""
    policy.ip_sms_per_hour = 2
    policy.save()
    assert start(anon_api).status_code == 202
    assert start(anon_api).status_code == 202
    third = start(anon_api)
    assert third.status_code == 429
    assert error_of(third)["code"] == "rate_limited"
    assert int(third["Retry-After"]) > 0


def test_recovery_login_signs_in_once_with_the_mfa_time_set(
    client: Any,
    policy: TenantPolicy,
    backup: SmsFactor,
    outbox: list[Any],
    user: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from intelliauth_sms.flows import FlowNotUsable
    from intelliauth_sms.mfa import session_verified_at
    from intelliauth_sms.services.recovery import recovery_login

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            f"{BASE}recovery/",
            {"username": "alice", "password": PASSWORD},
            content_type="application/json",
        )
    assert started.status_code == 202, started.content
    recovery_id = started.json()["id"]
    request = RequestFactory().post("/recovered/")
    request.session = SessionStore(session_key=client.session.session_key)
    with pytest.raises(FlowNotUsable):
        recovery_login(request, recovery_id)  # not recovered yet
    done = client.post(
        f"{BASE}recovery/{recovery_id}/complete/",
        {"code": last_code(outbox)},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert recovery_login(request, recovery_id) == user
    request.user = user
    assert session_verified_at(request) is not None
    with pytest.raises(FlowNotUsable):
        recovery_login(request, recovery_id)  # once only
    assert AuditEvent.objects.filter(event_type="recovery_login", is_recovery=True).count() == 1


def test_a_backup_phone_is_never_used_for_the_sign_in_step(
    anon_api: Any, user: Any, outbox: list[Any]
) -> None:
    from intelliauth_sms.flows import start_flow

    SmsFactorFactory(user=user, phone=BACKUP_PHONE, purpose=FactorPurpose.BACKUP)
    flow = start_flow(user)
    response = anon_api.post(f"{BASE}flows/{flow.id}/sms/initiate/", {}, format="json")
    assert response.status_code == 404
    assert outbox == []
    assert SmsFactor.objects.filter(user=user).count() == 1


def test_a_browser_with_a_session_keeps_its_recovery_a_cookieless_client_needs_only_the_id(
    policy: TenantPolicy, backup: SmsFactor, outbox: list[Any], user: Any
) -> None:
    from django.conf import settings
    from django.test import Client

    browser = Client()
    session = browser.session  # a browser with a session: the recovery is bound to it
    session.save()
    browser.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    started = browser.post(
        f"{BASE}recovery/", {"username": "alice", "password": PASSWORD}, "application/json"
    )
    assert started.status_code == 202, started.content
    assert AuthFlow.objects.get(pk=started.json()["id"]).session_binding
    stranger = Client()
    stolen = stranger.post(
        f"{BASE}recovery/{started.json()['id']}/complete/", {"code": "123456"}, "application/json"
    )
    assert stolen.status_code == 404

    app = Client()  # no cookies at all, like a token site's app
    unbound = app.post(
        f"{BASE}recovery/", {"username": "alice", "password": PASSWORD}, "application/json"
    )
    assert unbound.status_code == 202
    assert not AuthFlow.objects.get(pk=unbound.json()["id"]).session_binding


@pytest.mark.parametrize("make", MALFORMED_CODES.values(), ids=MALFORMED_CODES.keys())
def test_a_malformed_recovery_code_is_invalid_code_format_and_not_an_attempt(
    make: Any, anon_api: Any, policy: TenantPolicy, backup: SmsFactor, outbox: list[Any], user: Any
) -> None:
    from intelliauth_sms.models import SmsUserState

    recovery_id = start(anon_api).json()["id"]
    code = last_code(outbox)
    response = finish(anon_api, recovery_id, make(code))
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_code_format"
    assert code not in response.content.decode()
    state = SmsUserState.objects.filter(user=user).first()
    assert state is None or state.failed_attempts == 0
    assert finish(anon_api, recovery_id, code).status_code == 200
