"""The happy path of enrolment, end to end through the API."""

from __future__ import annotations

from typing import Any

from intelliauth_sms.models import SmsFactor
from tests.conftest import last_code

PHONE = "+14155550100"


def test_enrolment_sends_a_code_and_the_code_enrols_the_phone(api: Any, outbox: list[Any]) -> None:
    started = api.post("/api/mfa/sms/enrolments/", {"phone_number": PHONE}, format="json")
    assert started.status_code == 201, started.content
    assert started.json()["kind"] == "pending"
    assert started.json()["phone_number_masked"].endswith("0100")
    assert len(outbox) == 1 and outbox[0].to == PHONE

    done = api.post(
        f"/api/mfa/sms/enrolments/{started.json()['id']}/complete/",
        {"code": last_code(outbox)},
        format="json",
    )
    assert done.status_code == 201, done.content
    assert done.json()["kind"] == "enrolled"
    assert SmsFactor.objects.get().phone_last4 == "0100"
