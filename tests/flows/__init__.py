"""Tests of the sign-in SMS step (CONTRACT §3 flows rows, §4 ``start_flow``; issue 3).

Helpers shared by the modules of this package. Error bodies are checked with
``tests.api.assert_error``: exactly ``{"error": {"code", "message", *extra}}``, and no more
of a number than its last 4 digits, and no code, anywhere in the answer.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from intelliauth_sms.models import AuditEvent, AuthFlow, SmsCode, SmsFactor, SmsMessage
from tests.conftest import CommittingClient, last_code

BASE = "/api/mfa/sms/"
PHONE = "+14155550100"
OTHER_PHONE = "+447911123456"
LATEST_CODE_COPY = "Make sure you typed the latest code. Codes expire after 5 minutes."


def initiate_url(flow_id: object) -> str:
    return f"{BASE}flows/{flow_id}/sms/initiate/"


def complete_url(flow_id: object) -> str:
    return f"{BASE}flows/{flow_id}/sms/complete/"


def initiate(client: Any, flow_id: object, body: Any = None, **extra: Any) -> Any:
    """POST ``flows/{id}/sms/initiate/`` with a JSON body (``{}`` unless given)."""
    return client.post(initiate_url(flow_id), {} if body is None else body, format="json", **extra)


def complete(client: Any, flow_id: object, code: object, **extra: Any) -> Any:
    """POST ``flows/{id}/sms/complete/`` with ``{"code": code}``."""
    return client.post(complete_url(flow_id), {"code": code}, format="json", **extra)


def initiate_ok(client: Any, flow_id: object, outbox: list[Any], **extra: Any) -> str:
    """Initiate the SMS step, which must succeed; return the code that was sent."""
    sent_before = len(outbox)
    response = initiate(client, flow_id, **extra)
    assert response.status_code == 202, response.content
    assert len(outbox) == sent_before + 1, "no SMS was delivered"
    return last_code(outbox)


def wrong(*avoid: str) -> str:
    """A well-formed code that is none of ``avoid``."""
    for candidate in ("000000", "111111", "222222", "333333", "444444"):
        if candidate not in avoid:
            return candidate
    raise AssertionError("unreachable")


def snapshot(outbox: list[Any]) -> dict[str, Any]:
    """Everything an initiate or complete could create, send or change."""
    return {
        "messages": SmsMessage.objects.count(),
        "codes": list(SmsCode.objects.order_by("created_at", "id").values_list("id", "state")),
        "verified_flows": AuthFlow.objects.filter(verified_at__isnull=False).count(),
        "flow_factors": list(AuthFlow.objects.order_by("id").values_list("id", "factor_id")),
        "factors_used": SmsFactor.objects.filter(last_used_at__isnull=False).count(),
        "sent_events": AuditEvent.objects.filter(event_type="sms_sent").count(),
        "verified_events": AuditEvent.objects.filter(event_type="mfa_verified").count(),
        "sms": len(outbox),
    }


def events(event_type: str, **filters: Any) -> list[AuditEvent]:
    """Audit events of one type, oldest first."""
    return list(
        AuditEvent.objects.filter(event_type=event_type, **filters).order_by("created_at", "id")
    )


#: The password ``tests.factories.UserFactory`` gives every user.
PASSWORD = "correct horse battery staple"


class Browser:
    """A browser on the ``tests.flows.urls`` site (mark the test with it).

    Keeps its cookies, and sends the CSRF token only when told to (``**browser.csrf()``).
    """

    def __init__(self, capture: Any) -> None:
        self.client = CommittingClient(enforce_csrf_checks=True)
        self.client.capture = capture
        self.token = ""

    def sign_in(self, username: str = "alice", password: str = PASSWORD) -> str:
        """The password step of the site's login; returns the flow id it started."""
        self.token = self.client.get("/login/").json()["csrf"]
        response = self.client.post(
            "/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": self.token},
        )
        assert response.status_code == 200, response.content
        assert settings.SESSION_COOKIE_NAME in self.client.cookies
        return str(response.json()["flow_id"])

    def csrf(self) -> dict[str, str]:
        return {"HTTP_X_CSRFTOKEN": self.token}

    def finish(self, flow_id: str) -> Any:
        return self.client.post(f"/login/finish/{flow_id}/", {"csrfmiddlewaretoken": self.token})

    def whoami(self) -> str | None:
        return self.client.get("/whoami/").json()["username"]  # type: ignore[no-any-return]
