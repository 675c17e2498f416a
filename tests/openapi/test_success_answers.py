"""Each operation's success answer, reached on purpose, matches the schema.

Fuzzing reaches most refusals but few successes (a random phone number is rarely valid, a
random code never right), so here every operation is called once the way a client that
follows the README would, through the schema's own operations, and each answer is checked
like the fuzzed ones.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from intelliauth_sms.api.webhooks import twilio_signature, vonage_signature
from intelliauth_sms.backends import locmem
from tests.conftest import last_code
from tests.openapi.conftest import (
    CHECKS,
    PASSWORD,
    TWILIO_AUTH_TOKEN,
    VONAGE_SECRET,
    Browser,
)

pytestmark = pytest.mark.openapi

PREFIX = "/api/mfa/sms/"


class Site:
    """Calls one operation of the schema as ``browser`` and checks the answer."""

    def __init__(self, schema: Any, browser: Browser) -> None:
        self.schema = schema
        self.browser = browser
        self.called: set[tuple[str, str]] = set()

    def call(self, method: str, path: str, status: int, **case: Any) -> Any:
        operation = self.schema[PREFIX + path][method]
        response = operation.Case(**case).call_and_validate(
            cookies=self.browser.cookies,
            headers={**self.browser.headers, **case.pop("headers", {})},
            checks=CHECKS,
        )
        assert response.status_code == status, response.text
        self.called.add((method, path))
        return response.json() if response.content else None


def test_every_success_answer_matches_the_schema(api_schema: Any, browser: Browser) -> None:
    site = Site(api_schema, browser)

    assert len(site.call("GET", "factors/", 200)) == 2
    questions = site.call("GET", "security-questions/", 200)
    answers = {questions[0]["id"]: "a blue whale"}
    site.call("PUT", "security-answers/", 204, body={"answers": answers})
    normalised = site.call(
        "POST", "phone-numbers/normalise/", 200, body={"country": "GB", "number": "07911 123456"}
    )

    pending = site.call(
        "POST", "enrolments/", 201, body={"phone_number": normalised["phone_number"]}
    )
    ids = {"enrolment_id": pending["id"]}
    site.call("POST", "enrolments/{enrolment_id}/resend/", 202, path_parameters=ids, body={})
    enrolled = site.call(
        "POST",
        "enrolments/{enrolment_id}/complete/",
        201,
        path_parameters=ids,
        body={"code": last_code(locmem.outbox)},
    )
    factor = {"factor_id": enrolled["factor"]["id"]}
    revealed = site.call("POST", "factors/{factor_id}/reveal/", 200, path_parameters=factor)
    assert revealed == {"phone_number": "+447911123456"}
    site.call("DELETE", "factors/{factor_id}/", 204, path_parameters=factor)

    step_up = site.call("POST", "reauthentication/", 201, body={})
    flow = {"flow_id": step_up["flow_id"]}
    site.call("POST", "flows/{flow_id}/sms/initiate/", 202, path_parameters=flow, body={})
    site.call(
        "POST",
        "flows/{flow_id}/sms/complete/",
        200,
        path_parameters=flow,
        body={"code": last_code(locmem.outbox)},
    )

    started = site.call("POST", "recovery/", 202, body={"username": "alice", "password": PASSWORD})
    site.call(
        "POST",
        "recovery/{recovery_id}/complete/",
        200,
        path_parameters={"recovery_id": started["id"]},
        body={"code": last_code(locmem.outbox)},
    )

    twilio = {"MessageSid": "SM-unknown", "MessageStatus": "delivered"}
    url = f"http://localhost{PREFIX}webhooks/twilio/status/"
    signature = twilio_signature(TWILIO_AUTH_TOKEN, url, {k: [v] for k, v in twilio.items()})
    site.call(
        "POST",
        "webhooks/twilio/status/",
        204,
        body=twilio,
        media_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    vonage = {"messageId": "unknown", "status": "delivered", "timestamp": str(int(time.time()))}
    vonage["sig"] = vonage_signature(VONAGE_SECRET, "sha256", vonage)
    site.call("POST", "webhooks/vonage/status/", 204, body=vonage, media_type="application/json")

    documented = {
        (method.upper(), path.removeprefix(PREFIX))
        for path, methods in api_schema.raw_schema["paths"].items()
        for method in methods
    }
    assert site.called == documented
