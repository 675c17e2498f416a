"""The example site, signed in through its real sign-in, and its schema loaded for schemathesis.

The tier runs on whichever test settings are in force: ``tests.settings`` (SQLite) or
``tests.settings_services`` (PostgreSQL). Both install drf-spectacular as the example
project does; the fixtures here serve ``example_project.urls`` with the demo app, give the
Twilio and Vonage webhooks secrets (so their signature checks run on the generated input),
and turn the per-IP flood guard off, which would otherwise answer most generated requests
with 429 before they reach the code under test.

Requests go in-process to Django's WSGI handler. The database is transactional, as in
production: each request commits, and its ``on_commit`` work (the SMS send) runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from django.utils.crypto import get_random_string
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from intelliauth_sms.backends import locmem
from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import Tenant
from intelliauth_sms.services import enrolment, recovery
from intelliauth_sms.services.support import unlock_user
from tests.conftest import last_code
from tests.demo.site import with_demo_app
from tests.factories import SmsFactorFactory, UserFactory

SCHEMA_URL = "/api/schema/?format=json"
#: What every answer must pass: no server error, and the status, content type, headers
#: and body the schema documents for it.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
PHONE = "+14155550100"
BACKUP_PHONE = "+14155550101"
SEND_LIMITS = (
    "enrolment_sms_per_hour",
    "auth_sms_per_hour",
    "ip_sms_per_hour",
    "user_auth_sms_per_hour",
    "destination_sms_per_hour",
)
TWILIO_AUTH_TOKEN = "openapi-tier-twilio-token"
VONAGE_SECRET = "openapi-tier-vonage-secret"


@pytest.fixture
def example_site(settings: Any) -> Any:
    """``example_project.urls`` with the demo app, the webhooks' secrets, no flood guard."""
    settings.INSTALLED_APPS = with_demo_app(settings.INSTALLED_APPS)
    settings.ROOT_URLCONF = "example_project.urls"
    settings.LOGIN_URL = "intelliauth_sms_signin:login"
    settings.LOGIN_REDIRECT_URL = "demo:account"
    settings.INTELLIAUTH_SMS = {
        **settings.INTELLIAUTH_SMS,
        "REQUEST_RATE": None,
        # Long enough for the whole run: a sensitive call is then refused only when the
        # generated request itself deserves it.
        "REAUTHENTICATION_SECONDS": 3600,
        "TWILIO": {"AUTH_TOKEN": TWILIO_AUTH_TOKEN},
        "VONAGE": {"SIGNATURE_SECRET": VONAGE_SECRET, "SIGNATURE_METHOD": "sha256"},
    }
    return settings


@dataclass(frozen=True)
class Browser:
    """A signed-in browser's credentials: its session cookie and a CSRF token."""

    user: Any
    session_id: str
    csrf_token: str

    @property
    def cookies(self) -> dict[str, str]:
        return {"sessionid": self.session_id, "csrftoken": self.csrf_token}

    @property
    def headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.csrf_token}


@pytest.fixture
def alice(transactional_db: Any, example_site: Any) -> Any:
    """A user with a sign-in phone and a verified backup phone; SMS recovery allowed.

    The hourly send limits are raised and the SMS-pumping breaker is off so the whole
    run can send: hypothesis's requests and the fresh ids of every operation, all to one
    prefix and hardly ever verified, would spend the limits and trip the breaker within
    the first few operations.
    """
    user = UserFactory(username="alice")
    SmsFactorFactory(user=user, phone=PHONE)
    SmsFactorFactory(user=user, phone=BACKUP_PHONE, purpose="backup")
    policy = Tenant.objects.get(slug="default").policy
    policy.allow_sms_recovery = True
    for limit in SEND_LIMITS:
        setattr(policy, limit, 10_000)
    policy.pumping_protection = "off"
    policy.save()
    return user


@pytest.fixture
def browser(alice: Any) -> Browser:
    """Alice signed in through the drop-in sign-in: password, then the SMS step."""
    client = Client()
    typed = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert typed.status_code == 302, typed.content
    flow_id = typed["Location"].rstrip("/").split("/")[-1]
    api = f"/api/mfa/sms/flows/{flow_id}/sms/"
    sent = client.post(f"{api}initiate/", {}, content_type="application/json")
    assert sent.status_code == 202, sent.content
    checked = client.post(
        f"{api}complete/", {"code": last_code(locmem.outbox)}, content_type="application/json"
    )
    assert checked.status_code == 200, checked.content
    finished = client.post(f"/accounts/login/sms/{flow_id}/finish/")
    assert finished.status_code == 302, finished.content
    return Browser(
        user=alice,
        session_id=client.cookies["sessionid"].value,
        csrf_token=get_random_string(32),
    )


@pytest.fixture
def fresh_ids(browser: Browser) -> Callable[[], dict[str, str]]:
    """Path parameters that exist, new for each call: a backup factor of alice's, a pending
    enrolment of hers, an unbound sign-in flow and a recovery of her account (the ids are
    the capabilities). Each call first lifts the lockout the previous operation's wrong
    codes left, as support would, so every operation starts unlocked."""
    support = UserFactory(username="support")

    def make() -> dict[str, str]:
        unlock_user(support, browser.user, reason="next operation")
        backup = SmsFactorFactory(user=browser.user, phone=next(spare_numbers), purpose="backup")
        pending, _issued = enrolment.start_enrolment(browser.user, next(spare_numbers))
        started, _phone, _code = recovery.request_recovery("alice", PASSWORD)
        return {
            "factor_id": str(backup.id),
            "enrolment_id": str(pending.id),
            "flow_id": str(start_flow(browser.user).id),
            "recovery_id": str(started.id),
        }

    spare_numbers = (f"+1415555{n:04d}" for n in itertools.count(200))
    return make


@pytest.fixture
def wsgi_app(example_site: Any) -> WSGIHandler:
    return WSGIHandler()


@pytest.fixture
def api_schema(wsgi_app: WSGIHandler, browser: Browser) -> Any:
    """The schema the example site serves, loaded by schemathesis from the site itself."""
    return schemathesis.openapi.from_wsgi(SCHEMA_URL, wsgi_app)
