"""The API's OpenAPI schema (the ``openapi`` extra) as the example site serves it.

These run in the unit tier; ``tests/openapi`` fuzzes the API against the same schema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern
from drf_spectacular.validation import validate_schema

from intelliauth_sms.api import urls as api_urls
from intelliauth_sms.api.openapi import ERROR_STATUS, OPERATIONS
from tests.demo.site import with_demo_app

REPO_ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/api/mfa/sms/"
#: CONTRACT §3's error table, plus the codes DRF's own refusals are rendered with.
CONTRACT_CODES = {
    "invalid_request",
    "invalid_phone_number",
    "invalid_code_format",
    "invalid_code",
    "code_expired",
    "locked",
    "rate_limited",
    "country_not_allowed",
    "cost_cap_reached",
    "recovery_not_allowed",
    "invalid_credentials",
    "not_found",
    "mfa_required",
    "reauthentication_required",
    "destination_paused",
    "invalid_signature",
    "already_enrolled",
    "not_authenticated",
    "permission_denied",
}


@pytest.fixture
def example_site(settings: Any) -> Any:
    settings.INSTALLED_APPS = with_demo_app(settings.INSTALLED_APPS)
    settings.ROOT_URLCONF = "example_project.urls"
    return settings


@pytest.fixture
def schema(example_site: Any, db: Any) -> dict[str, Any]:
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def test_the_example_site_serves_a_valid_openapi_3_schema(schema: dict[str, Any]) -> None:
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")


def test_generating_the_schema_raises_no_warning(example_site: Any, tmp_path: Path) -> None:
    # drf-spectacular warns about anything it had to guess (a body, a parameter's type).
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", tmp_path / "s.yaml")
    assert (tmp_path / "s.yaml").read_text().startswith("openapi: 3.0")


def test_every_api_route_is_in_the_schema_and_nothing_else(schema: dict[str, Any]) -> None:
    routes = {
        PREFIX + str(p.pattern).replace("<str:", "{").replace(">", "}")
        for p in api_urls.urlpatterns
        if isinstance(p, URLPattern) and p.name != "unknown-path"
    }
    assert set(schema["paths"]) == routes
    assert len(operations(schema)) == len(OPERATIONS) == 16


def test_every_operation_documents_its_body_success_and_errors(schema: dict[str, Any]) -> None:
    for (method, path), operation in operations(schema).items():
        statuses = {int(s) for s in operation["responses"]}
        assert any(200 <= s < 300 for s in statuses), (method, path)
        if method in ("POST", "PUT"):
            assert operation["requestBody"]["content"], (method, path)
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            error = response["content"]["application/json"]["schema"]["properties"]["error"]
            codes = error["properties"]["code"]["enum"]
            assert set(codes) <= CONTRACT_CODES, (method, path, codes)
            expected = {int(status)} if status != "401" else {401}
            assert {401 if status == "401" else ERROR_STATUS[c] for c in codes} == expected
            if int(status) == 429:
                assert "retry_after" in error["required"]


def test_refusals_are_documented_where_the_contract_puts_them(schema: dict[str, Any]) -> None:
    ops = operations(schema)

    def codes(method: str, path: str, status: int) -> set[str]:
        response = ops[(method, PREFIX + path)]["responses"][str(status)]
        return set(
            response["content"]["application/json"]["schema"]["properties"]["error"]["properties"][
                "code"
            ]["enum"]
        )

    assert {"reauthentication_required", "mfa_required"} <= codes(
        "POST", "factors/{factor_id}/reveal/", 403
    )
    assert "reauthentication_required" not in codes("GET", "factors/", 403)
    assert {"invalid_code", "invalid_code_format", "code_expired"} <= codes(
        "POST", "flows/{flow_id}/sms/complete/", 400
    )
    assert {"locked", "rate_limited"} <= codes("POST", "enrolments/", 429)
    assert codes("POST", "webhooks/twilio/status/", 403) == {"invalid_signature"}
    assert "already_enrolled" in codes("POST", "enrolments/", 409)


def test_the_retry_after_and_no_store_headers_are_documented(schema: dict[str, Any]) -> None:
    ops = operations(schema)
    for (method, path), operation in ops.items():
        if "429" in operation["responses"]:
            assert "Retry-After" in operation["responses"]["429"]["headers"], (method, path)
    revealed = ops[("POST", PREFIX + "factors/{factor_id}/reveal/")]["responses"]["200"]
    assert revealed["headers"]["Cache-Control"]["required"] is True


def test_flow_and_webhook_endpoints_need_no_credential(schema: dict[str, Any]) -> None:
    ops = operations(schema)
    assert ops[("POST", PREFIX + "flows/{flow_id}/sms/initiate/")]["security"] == [{}]
    assert ops[("POST", PREFIX + "webhooks/twilio/status/")]["security"] == [{}]
    assert ops[("GET", PREFIX + "factors/")]["security"] == [{"cookieAuth": []}]
    twilio = ops[("POST", PREFIX + "webhooks/twilio/status/")]["requestBody"]["content"]
    assert list(twilio) == ["application/x-www-form-urlencoded"]


def test_the_example_site_serves_swagger_ui_from_its_own_static_files(
    example_site: Any, db: Any
) -> None:
    page = Client().get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/schema/" in html
    assert "drf_spectacular_sidecar/swagger-ui-dist/" in html  # no CDN


def test_the_app_and_the_example_site_run_without_drf_spectacular() -> None:
    # A fresh interpreter in which drf_spectacular cannot be imported (and find_spec finds
    # nothing), as for a site installed without the `openapi` extra.
    program = """
import sys
sys.modules["drf_spectacular"] = None
import django
django.setup()
from django.urls import NoReverseMatch, reverse
import example_project.urls  # noqa: F401
assert "intelliauth_sms.api.openapi" not in sys.modules
try:
    reverse("schema")
except NoReverseMatch:
    pass
else:
    raise AssertionError("the example site serves a schema without drf-spectacular")
print(reverse("intelliauth_sms:factor-list"))
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "example_project.settings"}
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    done = subprocess.run(  # noqa: S603 - our own interpreter and program
        [sys.executable, "-c", program],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "/api/mfa/sms/factors/"
