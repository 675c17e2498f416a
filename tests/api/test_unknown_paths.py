"""Paths under the API prefix that match no endpoint answer the contract's JSON not_found."""

from __future__ import annotations

from typing import Any

import pytest

from intelliauth_sms.models import PendingEnrolment


@pytest.mark.parametrize(
    "path",
    [
        "/api/mfa/sms/enrolments//resend/",
        "/api/mfa/sms/factors/a/b/reveal/",
        "/api/mfa/sms/enrolments",
        "/api/mfa/sms/no-such-endpoint/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_api_path_answers_json_not_found(api: Any, path: str, method: str) -> None:
    response = getattr(api, method)(path, {"phone_number": "+14155550100"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert PendingEnrolment.objects.count() == 0
