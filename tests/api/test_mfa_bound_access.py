"""MFA-bound access (CONTRACT §3, issue 7): every enrolment and factor endpoint × credential.

Credential kinds: HTTP Basic, a password-only session, a session after the SMS step (fresh
and stale), a step-up that refreshes a stale session, and a token site's resolver
(``MFA_VERIFIED_AT``, tests/mfa.py). The password alone never reaches a user's factors.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.authentication import BasicAuthentication, SessionAuthentication

from intelliauth_sms.api import views
from intelliauth_sms.flows import FlowNotUsable, complete_login, start_flow
from intelliauth_sms.models import (
    AuditEvent,
    AuthFlow,
    FactorPurpose,
    FlowKind,
    PendingEnrolment,
    SmsFactor,
)
from intelliauth_sms.phone import parse_e164
from tests.api import BASE, PHONE, factor_url, reveal_url
from tests.conftest import CommittingClient, last_code
from tests.factories import SmsFactorFactory, UserFactory
from tests.mfa import IssuedToken, verified_token

PASSWORD = "correct horse battery staple"
NEW_PHONE = "+14155550123"
REAUTH_URL = f"{BASE}reauthentication/"


@dataclass(frozen=True)
class Endpoint:
    """One enrolment or factor endpoint; ``sensitive`` ones need a recent SMS step."""

    name: str
    method: str
    path: Callable[[Any], str]
    body: Callable[[Any], dict[str, Any] | None]
    sensitive: bool


ENDPOINTS = [
    Endpoint(
        "start enrolment",
        "post",
        lambda ids: f"{BASE}enrolments/",
        lambda ids: {"phone_number": NEW_PHONE},
        True,
    ),
    Endpoint(
        "resend enrolment",
        "post",
        lambda ids: f"{BASE}enrolments/{ids.enrolment}/resend/",
        lambda ids: {},
        False,
    ),
    Endpoint(
        "complete enrolment",
        "post",
        lambda ids: f"{BASE}enrolments/{ids.enrolment}/complete/",
        lambda ids: {"code": "000000"},
        False,
    ),
    Endpoint("list factors", "get", lambda ids: f"{BASE}factors/", lambda ids: None, False),
    Endpoint("reveal", "post", lambda ids: reveal_url(ids.factor), lambda ids: {}, True),
    Endpoint("remove", "delete", lambda ids: factor_url(ids.factor), lambda ids: None, True),
    Endpoint(
        "normalise",
        "post",
        lambda ids: f"{BASE}phone-numbers/normalise/",
        lambda ids: {"country": "US", "number": "(415) 555-0123"},
        False,
    ),
]
SENSITIVE = [e for e in ENDPOINTS if e.sensitive]
ROUTINE = [e for e in ENDPOINTS if not e.sensitive]


@dataclass
class Ids:
    factor: str
    enrolment: str


@pytest.fixture
def enrolled(user: Any) -> Ids:
    """``user`` has a sign-in factor and a pending enrolment of a second phone."""
    user.set_password(PASSWORD)
    user.save()
    factor = SmsFactorFactory(user=user, phone=PHONE)
    pending = PendingEnrolment(user=user, tenant=factor.tenant, purpose=FactorPurpose.MFA)
    pending.set_phone(parse_e164(NEW_PHONE))
    pending.save()
    return Ids(factor=str(factor.id), enrolment=str(pending.id))


@pytest.fixture
def new_client(db: Any, django_capture_on_commit_callbacks: Any) -> Callable[[], CommittingClient]:
    """Build a JSON client that runs on-commit callbacks (delivery) as production does."""

    def build() -> CommittingClient:
        client = CommittingClient()
        client.capture = django_capture_on_commit_callbacks
        return client

    return build


def call(client: Any, endpoint: Endpoint, ids: Ids, **extra: Any) -> Any:
    body = endpoint.body(ids)
    if body is None:
        return getattr(client, endpoint.method)(endpoint.path(ids), **extra)
    return getattr(client, endpoint.method)(endpoint.path(ids), body, format="json", **extra)


def assert_refused(response: Any, code: str) -> None:
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == code
    assert set(response.json()["error"]) == {"code", "message"}
    assert "4155550100" not in response.content.decode()


def assert_allowed(response: Any) -> None:
    """Past the MFA-bound rule: whatever the endpoint answers, it is not that refusal."""
    assert response.status_code < 500, response.content
    if response.status_code == 403:
        code = response.json()["error"]["code"]
        assert code not in ("mfa_required", "reauthentication_required"), code


def nothing_changed(ids: Ids) -> None:
    assert SmsFactor.objects.filter(pk=ids.factor).exists()
    assert SmsFactor.objects.count() == 1
    assert PendingEnrolment.objects.count() == 1


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def sign_in_with_sms_step(client: CommittingClient, user: Any, outbox: list[Any]) -> AuthFlow:
    """A browser session that passed the SMS step, as a site's login view makes one.

    The password step starts a flow bound to the client's session; the page initiates and
    completes it through the API over HTTP; the finish view calls ``complete_login``.
    """
    session_key = client.session.session_key
    password_step = RequestFactory().post("/login/")
    password_step.session = SessionStore(session_key=session_key)
    flow = start_flow(user, request=password_step)
    password_step.session.save()
    sent = client.post(f"{BASE}flows/{flow.id}/sms/initiate/", {}, format="json")
    assert sent.status_code == 202, sent.content
    checked = client.post(
        f"{BASE}flows/{flow.id}/sms/complete/", {"code": last_code(outbox)}, format="json"
    )
    assert checked.status_code == 200, checked.content
    finish = RequestFactory().post("/login/finish/")
    finish.session = SessionStore(session_key=session_key)
    complete_login(finish, flow.id)
    finish.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = finish.session.session_key
    return flow


# --- HTTP Basic ---------------------------------------------------------------------


@pytest.fixture
def basic_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """A site whose DRF defaults still list HTTP Basic (as DRF's own defaults do)."""
    for view in (views.SignedInView, *views.SignedInView.__subclasses__()):
        monkeypatch.setattr(
            view, "authentication_classes", [SessionAuthentication, BasicAuthentication]
        )


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_http_basic_with_the_right_password_is_refused_with_mfa_required(
    endpoint: Endpoint, enrolled: Ids, user: Any, basic_enabled: None, new_client: Any
) -> None:
    response = call(new_client(), endpoint, enrolled, HTTP_AUTHORIZATION=basic("alice", PASSWORD))
    assert_refused(response, "mfa_required")
    nothing_changed(enrolled)


def test_the_basic_attack_of_the_issue_gets_nothing(
    enrolled: Ids, basic_enabled: None, new_client: Any, outbox: list[Any]
) -> None:
    """List, reveal, enrol one's own phone, delete every factor: all refused, nothing sent."""
    attacker = new_client()
    auth = {"HTTP_AUTHORIZATION": basic("alice", PASSWORD)}
    assert_refused(attacker.get(f"{BASE}factors/", **auth), "mfa_required")
    assert_refused(
        attacker.post(reveal_url(enrolled.factor), {}, format="json", **auth), "mfa_required"
    )
    assert_refused(
        attacker.post(
            f"{BASE}enrolments/", {"phone_number": "+14155550199"}, format="json", **auth
        ),
        "mfa_required",
    )
    assert_refused(attacker.delete(factor_url(enrolled.factor), **auth), "mfa_required")
    assert outbox == []
    nothing_changed(enrolled)


# --- Sessions -----------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_password_only_session_is_refused_with_mfa_required(
    endpoint: Endpoint, enrolled: Ids, new_client: Any
) -> None:
    client = new_client()
    assert client.login(username="alice", password=PASSWORD)
    assert_refused(call(client, endpoint, enrolled), "mfa_required")
    nothing_changed(enrolled)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_session_after_the_sms_step_may_use_every_endpoint(
    endpoint: Endpoint, enrolled: Ids, user: Any, new_client: Any, outbox: list[Any]
) -> None:
    client = new_client()
    sign_in_with_sms_step(client, user, outbox)
    assert_allowed(call(client, endpoint, enrolled))


@pytest.mark.parametrize("endpoint", SENSITIVE, ids=lambda e: e.name)
def test_a_stale_session_needs_reauthentication_for_sensitive_actions(
    endpoint: Endpoint, enrolled: Ids, user: Any, new_client: Any, outbox: list[Any]
) -> None:
    client = new_client()
    sign_in_with_sms_step(client, user, outbox)
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert_refused(call(client, endpoint, enrolled), "reauthentication_required")
    nothing_changed(enrolled)


@pytest.mark.parametrize("endpoint", ROUTINE, ids=lambda e: e.name)
def test_a_stale_session_still_reaches_routine_endpoints(
    endpoint: Endpoint, enrolled: Ids, user: Any, new_client: Any, outbox: list[Any]
) -> None:
    client = new_client()
    sign_in_with_sms_step(client, user, outbox)
    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        assert_allowed(call(client, endpoint, enrolled))


def test_the_window_follows_the_setting(
    enrolled: Ids, user: Any, new_client: Any, outbox: list[Any], settings: Any
) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "REAUTHENTICATION_SECONDS": 30}
    client = new_client()
    sign_in_with_sms_step(client, user, outbox)
    with time_machine.travel(timezone.now() + timedelta(seconds=29)):
        assert client.post(reveal_url(enrolled.factor), {}, format="json").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert_refused(
            client.post(reveal_url(enrolled.factor), {}, format="json"),
            "reauthentication_required",
        )


def test_a_password_login_in_a_verified_session_drops_its_mfa_time(
    enrolled: Ids, user: Any, new_client: Any, outbox: list[Any]
) -> None:
    client = new_client()
    sign_in_with_sms_step(client, user, outbox)
    assert client.get(f"{BASE}factors/").status_code == 200
    assert client.login(username="alice", password=PASSWORD)  # a password-only login page
    assert_refused(client.get(f"{BASE}factors/"), "mfa_required")


def test_another_users_mfa_time_in_the_session_does_not_count(
    enrolled: Ids, user: Any, new_client: Any, outbox: list[Any]
) -> None:
    bob = UserFactory(username="bob")
    bob.set_password(PASSWORD)
    bob.save()
    SmsFactorFactory(user=bob, phone="+14155550177")
    client = new_client()
    sign_in_with_sms_step(client, user, outbox)
    assert client.login(username="bob", password=PASSWORD)
    assert_refused(client.get(f"{BASE}factors/"), "mfa_required")


def test_refusals_are_audited_without_the_number(
    enrolled: Ids, user: Any, new_client: Any, outbox: list[Any]
) -> None:
    client = new_client()
    assert client.login(username="alice", password=PASSWORD)
    client.get(f"{BASE}factors/")
    sign_in_with_sms_step(client, user, outbox)
    with time_machine.travel(timezone.now() + timedelta(seconds=600)):
        client.delete(factor_url(enrolled.factor))
    refused = AuditEvent.objects.filter(event_type="access_refused").order_by("created_at")
    assert [(e.failure_code, e.outcome, e.user_id) for e in refused] == [
        ("mfa_required", "failure", user.pk),
        ("reauthentication_required", "failure", user.pk),
    ]
    assert all(e.phone_last4 == "" for e in refused)


# --- Users without a factor ---------------------------------------------------------


def test_a_password_only_user_without_a_factor_may_enrol_a_first_one(
    user: Any, new_client: Any, outbox: list[Any], mailoutbox: list[Any]
) -> None:
    """Typing the first phone's code is passing the SMS step: the session is credited."""
    user.set_password(PASSWORD)
    user.save()
    client = new_client()
    assert client.login(username="alice", password=PASSWORD)
    assert client.get(f"{BASE}factors/").json() == []
    first = client.post(f"{BASE}enrolments/", {"phone_number": PHONE}, format="json")
    assert first.status_code == 201, first.content
    done = client.post(
        f"{BASE}enrolments/{first.json()['id']}/complete/",
        {"code": last_code(outbox)},
        format="json",
    )
    assert done.status_code == 201, done.content
    assert [m.subject for m in mailoutbox] == ["A phone number was added to your account"]
    assert client.get(f"{BASE}factors/").status_code == 200
    factor_id = done.json()["factor"]["id"]
    assert client.post(reveal_url(factor_id), {}, format="json").status_code == 200


def test_a_pending_enrolment_cannot_be_finished_by_a_password_only_session_once_a_factor_exists(
    user: Any, new_client: Any, outbox: list[Any]
) -> None:
    """Two browsers: the owner enrolled a phone meanwhile; the password-only one is stuck."""
    user.set_password(PASSWORD)
    user.save()
    attacker = new_client()
    assert attacker.login(username="alice", password=PASSWORD)
    pending = attacker.post(f"{BASE}enrolments/", {"phone_number": NEW_PHONE}, format="json")
    assert pending.status_code == 201
    SmsFactorFactory(user=user, phone=PHONE)  # the owner's phone, enrolled elsewhere
    assert_refused(
        attacker.post(
            f"{BASE}enrolments/{pending.json()['id']}/complete/",
            {"code": last_code(outbox)},
            format="json",
        ),
        "mfa_required",
    )
    assert SmsFactor.objects.filter(user=user).count() == 1


def test_only_the_first_sign_in_phone_credits_the_session(
    user: Any, new_client: Any, outbox: list[Any]
) -> None:
    user.set_password(PASSWORD)
    user.save()
    client = new_client()
    assert client.login(username="alice", password=PASSWORD)
    backup = client.post(
        f"{BASE}enrolments/", {"phone_number": NEW_PHONE, "purpose": "backup"}, format="json"
    )
    client.post(
        f"{BASE}enrolments/{backup.json()['id']}/complete/",
        {"code": last_code(outbox)},
        format="json",
    )
    SmsFactorFactory(user=user, phone=PHONE)
    assert_refused(client.get(f"{BASE}factors/"), "mfa_required")


def test_backup_phones_alone_do_not_make_the_rule_apply(user: Any, new_client: Any) -> None:
    """Backup phones never take part in sign-in, so the user signs in with the password."""
    user.set_password(PASSWORD)
    user.save()
    backup = SmsFactorFactory(user=user, phone=PHONE, purpose=FactorPurpose.BACKUP)
    client = new_client()
    assert client.login(username="alice", password=PASSWORD)
    assert client.get(f"{BASE}factors/").status_code == 200
    assert client.post(reveal_url(backup.id), {}, format="json").status_code == 200


# --- Step-up ------------------------------------------------------------------------


def step_up(client: Any, outbox: list[Any]) -> dict[str, Any]:
    started = client.post(REAUTH_URL, {}, format="json")
    assert started.status_code == 201, started.content
    body = dict(started.json())
    flow_id = body["flow_id"]
    sent = client.post(f"{BASE}flows/{flow_id}/sms/initiate/", {}, format="json")
    assert sent.status_code == 202, sent.content
    checked = client.post(
        f"{BASE}flows/{flow_id}/sms/complete/", {"code": last_code(outbox)}, format="json"
    )
    assert checked.status_code == 200, checked.content
    return body


@pytest.mark.parametrize("endpoint", SENSITIVE, ids=lambda e: e.name)
def test_a_step_up_refreshes_a_stale_session(
    endpoint: Endpoint, enrolled: Ids, user: Any, new_client: Any, outbox: list[Any]
) -> None:
    client = new_client()
    sign_in_with_sms_step(client, user, outbox)
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        assert_refused(call(client, endpoint, enrolled), "reauthentication_required")
        step_up(client, outbox)
        assert_allowed(call(client, endpoint, enrolled))


def test_a_step_up_turns_a_password_only_session_into_a_verified_one(
    enrolled: Ids, new_client: Any, outbox: list[Any]
) -> None:
    client = new_client()
    assert client.login(username="alice", password=PASSWORD)
    assert_refused(client.get(f"{BASE}factors/"), "mfa_required")
    body = step_up(client, outbox)
    assert set(body) == {"flow_id", "expires_at"}
    assert client.post(reveal_url(enrolled.factor), {}, format="json").status_code == 200


def test_step_ups_are_audited_and_cannot_log_anyone_in(
    enrolled: Ids, user: Any, new_client: Any, outbox: list[Any]
) -> None:
    client = new_client()
    assert client.login(username="alice", password=PASSWORD)
    flow_id = step_up(client, outbox)["flow_id"]
    flow = AuthFlow.objects.get(pk=flow_id)
    assert flow.kind == FlowKind.STEP_UP and flow.session_binding
    types = list(AuditEvent.objects.filter(subject_id=flow.id).values_list("event_type", flat=True))
    assert "reauthentication_started" in types and "reauthenticated" in types
    request = RequestFactory().post("/finish/")
    request.session = SessionStore(session_key=client.session.session_key)
    with pytest.raises(FlowNotUsable):
        complete_login(request, flow.id)


def test_a_step_up_is_bound_to_its_session(
    enrolled: Ids, new_client: Any, outbox: list[Any]
) -> None:
    mine, theirs = new_client(), new_client()
    assert mine.login(username="alice", password=PASSWORD)
    assert theirs.login(username="alice", password=PASSWORD)
    flow_id = mine.post(REAUTH_URL, {}, format="json").json()["flow_id"]
    stolen = theirs.post(f"{BASE}flows/{flow_id}/sms/initiate/", {}, format="json")
    assert stolen.status_code == 404
    assert outbox == []


def test_a_step_up_verified_after_logout_gives_the_session_nothing(
    enrolled: Ids, new_client: Any, outbox: list[Any]
) -> None:
    client = new_client()
    assert client.login(username="alice", password=PASSWORD)
    flow_id = client.post(REAUTH_URL, {}, format="json").json()["flow_id"]
    assert client.post(f"{BASE}flows/{flow_id}/sms/initiate/", {}, format="json").status_code == 202
    code = last_code(outbox)
    session = client.session
    del session["_auth_user_id"]  # signed out in another tab, session kept
    session.save()
    client.post(f"{BASE}flows/{flow_id}/sms/complete/", {"code": code}, format="json")
    assert "intelliauth_sms.mfa" not in client.session


def test_reauthentication_needs_a_signed_in_user_with_a_factor(user: Any, new_client: Any) -> None:
    anonymous = new_client()
    refused = anonymous.post(REAUTH_URL, {}, format="json")
    assert refused.status_code in (401, 403)
    assert refused.json()["error"]["code"] == "not_authenticated"
    user.set_password(PASSWORD)
    user.save()
    no_factor = new_client()
    assert no_factor.login(username="alice", password=PASSWORD)
    response = no_factor.post(REAUTH_URL, {}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not AuthFlow.objects.exists()


@pytest.mark.parametrize("raw", ["[]", '"x"', "1", "null", "{", "\u0000"])
def test_reauthentication_refuses_a_body_that_is_not_an_object(
    raw: str, enrolled: Ids, new_client: Any
) -> None:
    client = new_client()
    assert client.login(username="alice", password=PASSWORD)
    response = client.post(REAUTH_URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert not AuthFlow.objects.exists()


def test_a_token_client_cannot_start_a_session_step_up(enrolled: Ids, api: Any) -> None:
    response = api.post(REAUTH_URL, {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert not AuthFlow.objects.exists()


# --- A token site's MFA_VERIFIED_AT ---------------------------------------------------


@pytest.mark.parametrize(
    ("age", "routine_ok", "sensitive_ok"),
    [(None, False, False), (10, True, True), (301, True, False), (86400, True, False)],
)
def test_a_token_resolver_decides_from_the_token(
    age: int | None,
    routine_ok: bool,
    sensitive_ok: bool,
    enrolled: Ids,
    user: Any,
    new_client: Any,
) -> None:
    at = None if age is None else timezone.now() - timedelta(seconds=age)
    client = new_client()
    client.force_authenticate(user, token=IssuedToken(mfa_verified_at=at))
    listed = client.get(f"{BASE}factors/")
    revealed = client.post(reveal_url(enrolled.factor), {}, format="json")
    assert (listed.status_code == 200) is routine_ok
    assert (revealed.status_code == 200) is sensitive_ok
    if age is None:
        assert_refused(listed, "mfa_required")
    elif not sensitive_ok:
        assert_refused(revealed, "reauthentication_required")


def test_a_resolver_answer_that_is_not_an_aware_datetime_counts_as_not_passed(
    enrolled: Ids, user: Any, new_client: Any
) -> None:
    client = new_client()
    naive = timezone.now().replace(tzinfo=None)
    for token in (IssuedToken(mfa_verified_at=naive), IssuedToken(mfa_verified_at="now")):  # type: ignore[arg-type]
        client.force_authenticate(user, token=token)
        assert_refused(client.get(f"{BASE}factors/"), "mfa_required")


def test_without_a_token_a_forced_login_is_password_only(
    enrolled: Ids, user: Any, new_client: Any
) -> None:
    client = new_client()
    client.force_authenticate(user)
    assert_refused(client.get(f"{BASE}factors/"), "mfa_required")
    client.force_authenticate(user, token=verified_token())
    assert client.get(f"{BASE}factors/").status_code == 200


# --- Reveal responses ---------------------------------------------------------------


def test_a_revealed_number_is_sent_with_no_store(enrolled: Ids, api: Any) -> None:
    response = api.post(reveal_url(enrolled.factor), {}, format="json")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
