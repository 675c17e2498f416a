"""Account recovery by SMS to a verified backup phone (issue 8; CONTRACT §2-§5)."""

from __future__ import annotations

from typing import Any

BASE = "/api/mfa/sms/"
RECOVERY_URL = f"{BASE}recovery/"
QUESTIONS_URL = f"{BASE}security-questions/"
ANSWERS_URL = f"{BASE}security-answers/"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
MFA_PHONE = "+14155550100"
BACKUP_PHONE = "+447911123456"


def complete_url(recovery_id: object) -> str:
    return f"{BASE}recovery/{recovery_id}/complete/"


def start(client: Any, username: str = "alice", password: str = PASSWORD, **extra: Any) -> Any:
    """POST ``recovery/`` with a JSON body."""
    return client.post(
        RECOVERY_URL, {"username": username, "password": password, **extra}, format="json"
    )


def finish(client: Any, recovery_id: object, code: object) -> Any:
    return client.post(complete_url(recovery_id), {"code": code}, format="json")


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return dict(body["error"])
