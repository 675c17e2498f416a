"""Reading request bodies: each field's problem becomes its contract error code.

Type and format checks live in the services (``phone.parse_e164``,
``codes.normalise_code``) so the Python API refuses the same input; here the body itself
is checked and the fields are picked out.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework.request import Request

from intelliauth_sms.exceptions import InvalidRequest
from intelliauth_sms.models import FactorPurpose


def json_object(request: Request) -> dict[str, Any]:
    """The body as a dict; an empty body counts as ``{}``; anything else is refused."""
    data = request.data
    if isinstance(data, QueryDict):
        if data:
            raise InvalidRequest()
        return {}
    if not isinstance(data, dict):
        raise InvalidRequest()
    return data


def factor_purpose(body: dict[str, Any]) -> str:
    """``purpose``: absent means ``"mfa"``; otherwise ``"mfa"`` or ``"backup"``."""
    purpose = body.get("purpose", FactorPurpose.MFA)
    if not isinstance(purpose, str) or purpose not in FactorPurpose.values:
        raise InvalidRequest()
    return purpose


def optional_id(body: dict[str, Any], name: str) -> str | None:
    """An optional id field: absent or null means none; anything but a string is refused."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest()
    return value
