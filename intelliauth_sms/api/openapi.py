"""The API's OpenAPI 3 description, for drf-spectacular (the ``openapi`` extra).

The views read their JSON bodies by hand, so drf-spectacular cannot discover what they take
and answer. This module declares it: for each endpoint, the body it accepts, its success
answer, and every error it can answer with, as ``{"error": {"code", "message", ...}}``
with the codes possible at each status (CONTRACT §3). Nothing here changes how the API
behaves; the schema is attached through drf-spectacular's extensions, which replace each
view with an annotated subclass while the schema is generated, and only then.

``IntelliAuthSmsConfig.ready`` imports this module when drf-spectacular is installed; the
app never imports it otherwise. Importing it registers the extensions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from intelliauth_sms import exceptions

Schema = dict[str, Any]

# --- error bodies --------------------------------------------------------------------------

#: Status of each error code: the app's own from its exception classes, then DRF's
#: (``api.errors`` renders those in the same shape).
ERROR_STATUS: dict[str, int] = {
    cls.code: cls.status_code
    for cls in (
        exceptions.InvalidRequest,
        exceptions.InvalidPhoneNumber,
        exceptions.InvalidCodeFormat,
        exceptions.InvalidCode,
        exceptions.CodeExpired,
        exceptions.Locked,
        exceptions.RateLimited,
        exceptions.CountryNotAllowed,
        exceptions.CostCapReached,
        exceptions.RecoveryNotAllowed,
        exceptions.InvalidCredentials,
        exceptions.NotFound,
        exceptions.MfaRequired,
        exceptions.ReauthenticationRequired,
        exceptions.DestinationPaused,
        exceptions.InvalidSignature,
        exceptions.AlreadyEnrolled,
    )
}
# A failed CSRF check (session authentication) and a missing or rejected credential. DRF
# answers the latter 401 with a ``WWW-Authenticate`` header when the site's first
# authentication class names one (tokens), else 403 (sessions): both are documented.
ERROR_STATUS["permission_denied"] = 403
ERROR_STATUS["not_authenticated"] = 403

_RETRY_AFTER = {
    "type": "integer",
    "nullable": True,
    "minimum": 1,
    "description": "Seconds to wait; null while the lockout lasts until support unlocks.",
}


def error_schema(codes: list[str]) -> Schema:
    """The contract's error body with ``code`` limited to ``codes``."""
    properties: Schema = {
        "code": {"type": "string", "enum": sorted(codes)},
        "message": {"type": "string", "description": "User-facing copy, translated."},
    }
    required = ["code", "message"]
    if "invalid_code" in codes:
        properties["attempts_remaining"] = {
            "type": "integer",
            "minimum": 0,
            "description": "With `invalid_code`: wrong codes left before the lockout.",
        }
    if {"locked", "rate_limited"} & set(codes):
        properties["retry_after"] = _RETRY_AFTER
        required.append("retry_after")
    return {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": required,
                "additionalProperties": False,
                "properties": properties,
            }
        },
    }


def error_responses(codes: tuple[str, ...]) -> dict[int, OpenApiResponse]:
    """One response per status, each listing the error codes it may carry."""
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys(codes):
        by_status.setdefault(ERROR_STATUS[code], []).append(code)
    responses = {
        status: OpenApiResponse(
            error_schema(group), description="Error: " + ", ".join(f"`{c}`" for c in group)
        )
        for status, group in by_status.items()
    }
    if "not_authenticated" in codes:
        responses[401] = OpenApiResponse(
            error_schema(["not_authenticated"]),
            description="Error: `not_authenticated`, where the site's authentication class "
            "answers with a `WWW-Authenticate` header (tokens); session sites answer 403.",
        )
    return responses


# --- building blocks -------------------------------------------------------------------------

_UUID = {"type": "string", "format": "uuid"}
_MASKED = {
    "type": "string",
    "description": "The number with every digit but the last 4 hidden.",
    "example": "•••• •••• 0100",
}
_DATETIME = {"type": "string", "format": "date-time"}
_PURPOSE = {"type": "string", "enum": ["mfa", "backup"]}
_CODE = {
    "type": "string",
    "pattern": "^[0-9]{6}$",
    "description": "The 6-digit code from the SMS. Spaces and hyphens the user typed are "
    "accepted and ignored; any other character is `invalid_code_format`.",
    "example": "123456",
}
_E164 = {
    "type": "string",
    "pattern": "^\\+[1-9][0-9]{1,14}$",
    "description": "E.164, and a valid number for its country.",
    "example": "+14155550100",
}
_ANSWERS = {
    "type": "object",
    "description": "Answers by security question id (`security-questions/`).",
    "additionalProperties": {"type": "string"},
}


def obj(properties: Schema, *, optional: tuple[str, ...] = (), closed: bool = True) -> Schema:
    """An object schema; every property is required unless named in ``optional``.

    ``closed`` (for answers) forbids other properties; request bodies stay open, as the
    views ignore fields they do not know.
    """
    schema: Schema = {"type": "object", "properties": properties}
    required = [name for name in properties if name not in optional]
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return schema


def json_body(properties: Schema, *, optional: tuple[str, ...] = ()) -> Schema:
    """A JSON request body (``Content-Type: application/json``)."""
    return {"application/json": obj(properties, optional=optional, closed=False)}


EMPTY_BODY = {
    "application/json": {
        "type": "object",
        "description": "`{}`; the body may also be left out.",
    }
}

PENDING_ENROLMENT = obj(
    {
        "id": _UUID,
        "kind": {"type": "string", "enum": ["pending"]},
        "phone_number_masked": _MASKED,
        "expires_at": _DATETIME,
    }
)
ENROLLED_FACTOR = obj(
    {"id": _UUID, "phone_number_masked": _MASKED, "purpose": _PURPOSE, "created_at": _DATETIME}
)
LISTED_FACTOR = obj(
    {**ENROLLED_FACTOR["properties"], "last_used_at": {**_DATETIME, "nullable": True}}
)


#: The 429 answers' header; absent while a lockout lasts until support unlocks the user.
RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    description="Seconds to wait, as `retry_after` in the body.",
    response=[429],
)
#: A full number must not stay in a browser or proxy cache (CONTRACT §3).
NO_STORE_HEADER = OpenApiParameter(
    "Cache-Control",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    pattern="no-store",
    description="Includes `no-store`.",
    response=[200],
)


def answer(schema: Schema | None, description: str) -> OpenApiResponse:
    """A success response; ``None`` for one without a body (204)."""
    return OpenApiResponse(schema, description=description)


# --- error groups ------------------------------------------------------------------------------

#: Every endpoint behind the per-IP flood guard (``REQUEST_RATE``).
GUARDED = ("rate_limited",)
#: A JSON body that cannot be read, is too large or is not an object.
BODY = ("invalid_request",)
#: The site's authentication and the MFA-bound rule (CONTRACT §3).
SIGNED_IN = ("not_authenticated", "permission_denied", "mfa_required", *GUARDED)
SENSITIVE = (*SIGNED_IN, "reauthentication_required")
#: The sending policy gate, in its order.
SEND_GATE = (
    "locked",
    "rate_limited",
    "country_not_allowed",
    "cost_cap_reached",
    "destination_paused",
)
#: Checking a typed code.
CODE_CHECK = ("invalid_code_format", "invalid_code", "code_expired", "locked")
#: Sign-in flows and recovery: the id is the capability; a session cookie needs CSRF.
FLOW = ("permission_denied", "not_found", *GUARDED)


def operation(
    *,
    tag: str,
    summary: str,
    success: dict[int, OpenApiResponse],
    errors: tuple[str, ...],
    request: Schema | None = None,
    ids: tuple[str, ...] = (),
    **more: Any,
) -> dict[str, Any]:
    """``extend_schema`` arguments for one method of one view."""
    parameters = [
        OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.PATH) for name in ids
    ] + more.pop("parameters", [])
    if {"locked", "rate_limited"} & set(errors):
        parameters.append(RETRY_AFTER_HEADER)
    return {
        "tags": [tag],
        "summary": summary,
        "request": request,
        "responses": {**success, **error_responses(errors)},
        "parameters": parameters,
        **more,
    }


# --- the endpoints ------------------------------------------------------------------------------

VIEWS = "intelliauth_sms.api.views."
RECOVERY = "intelliauth_sms.api.recovery."
WEBHOOKS = "intelliauth_sms.api.webhooks."

#: ``{view class path: {method: extend_schema arguments}}``.
OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    VIEWS + "EnrolmentCreateView": {
        "post": operation(
            tag="enrolment",
            summary="Start enrolling a phone; an SMS with a code is on its way",
            request=json_body({"phone_number": _E164, "purpose": _PURPOSE}, optional=("purpose",)),
            success={201: answer(PENDING_ENROLMENT, "The pending enrolment.")},
            errors=(*SENSITIVE, *BODY, "invalid_phone_number", "already_enrolled", *SEND_GATE),
        )
    },
    VIEWS + "EnrolmentResendView": {
        "post": operation(
            tag="enrolment",
            summary="Send a new code; the previous one stops working",
            ids=("enrolment_id",),
            request=EMPTY_BODY,
            success={202: answer(PENDING_ENROLMENT, "The pending enrolment, new expiry.")},
            errors=(*SIGNED_IN, *BODY, "not_found", *SEND_GATE),
        )
    },
    VIEWS + "EnrolmentCompleteView": {
        "post": operation(
            tag="enrolment",
            summary="Type the code back; the phone is enrolled",
            ids=("enrolment_id",),
            request=json_body({"code": _CODE}),
            success={
                201: answer(
                    obj(
                        {
                            "kind": {"type": "string", "enum": ["enrolled"]},
                            "factor": ENROLLED_FACTOR,
                        }
                    ),
                    "The enrolled factor.",
                )
            },
            errors=(*SIGNED_IN, *BODY, "not_found", *CODE_CHECK, "already_enrolled"),
        )
    },
    VIEWS + "FactorListView": {
        "get": operation(
            tag="factors",
            summary="The caller's own factors, masked",
            success={200: answer({"type": "array", "items": LISTED_FACTOR}, "The factors.")},
            errors=SIGNED_IN,
        )
    },
    VIEWS + "FactorDetailView": {
        "delete": operation(
            tag="factors",
            summary="Remove one of the caller's factors (audited)",
            ids=("factor_id",),
            success={204: answer(None, "Removed.")},
            errors=(*SENSITIVE, "not_found"),
        )
    },
    VIEWS + "FactorRevealView": {
        "post": operation(
            tag="factors",
            summary="The factor's full number (audited, never cached)",
            ids=("factor_id",),
            request=EMPTY_BODY,
            success={
                200: answer(
                    obj({"phone_number": _E164}),
                    "The full number in E.164, sent with `Cache-Control: no-store`.",
                )
            },
            errors=(*SENSITIVE, *BODY, "not_found"),
            parameters=[NO_STORE_HEADER],
        )
    },
    VIEWS + "ReauthenticationView": {
        "post": operation(
            tag="sign-in flows",
            summary="Start a step-up flow bound to the session",
            description="Open to a password-only session. The client then calls the flow's "
            "`sms/initiate/` and `sms/complete/`; a verified step-up flow refreshes the "
            "session's MFA time. A request not authenticated by its session is refused "
            "with `invalid_request`; a user with no phone enrolled gets `not_found`.",
            request=EMPTY_BODY,
            success={201: answer(obj({"flow_id": _UUID, "expires_at": _DATETIME}), "The flow.")},
            errors=("not_authenticated", "permission_denied", *GUARDED, *BODY, "not_found"),
        )
    },
    VIEWS + "FlowInitiateView": {
        "post": operation(
            tag="sign-in flows",
            summary="Send the flow's code; answers before delivery",
            ids=("flow_id",),
            request=json_body({"factor_id": {**_UUID, "nullable": True}}, optional=("factor_id",)),
            success={
                202: answer(
                    obj(
                        {
                            "status": {"type": "string", "enum": ["pending"]},
                            "phone_number_masked": _MASKED,
                            "expires_at": _DATETIME,
                        }
                    ),
                    "The code is on its way.",
                )
            },
            errors=(*FLOW, *BODY, *SEND_GATE),
        )
    },
    VIEWS + "FlowCompleteView": {
        "post": operation(
            tag="sign-in flows",
            summary="Check the flow's code; the flow is verified",
            ids=("flow_id",),
            request=json_body({"code": _CODE}),
            success={
                200: answer(obj({"status": {"type": "string", "enum": ["verified"]}}), "Verified.")
            },
            errors=(*FLOW, *BODY, *CODE_CHECK),
        )
    },
    RECOVERY + "SecurityQuestionsView": {
        "get": operation(
            tag="recovery",
            summary="The security questions offered: the site's, then the tenant's",
            parameters=[
                OpenApiParameter(
                    "tenant",
                    OpenApiTypes.STR,
                    OpenApiParameter.QUERY,
                    description="A tenant's slug, for a caller who is not signed in; an "
                    "unknown slug lists the site's questions only.",
                )
            ],
            success={
                200: answer(
                    {
                        "type": "array",
                        "items": obj({"id": {"type": "string"}, "text": {"type": "string"}}),
                    },
                    "The questions.",
                )
            },
            errors=("not_authenticated", *GUARDED),
        )
    },
    RECOVERY + "SecurityAnswersView": {
        "put": operation(
            tag="recovery",
            summary="Replace the caller's security answers (stored hashed)",
            request=json_body({"answers": {**_ANSWERS, "minProperties": 1}}),
            success={204: answer(None, "Replaced; the user is emailed.")},
            errors=(*SENSITIVE, *BODY),
        )
    },
    RECOVERY + "RecoveryStartView": {
        "post": operation(
            tag="recovery",
            summary="Re-prove, then a code to the verified backup phone",
            request=json_body(
                {
                    "username": {"type": "string"},
                    "password": {"type": "string"},
                    "security_answers": _ANSWERS,
                },
                optional=("security_answers",),
            ),
            success={
                202: answer(
                    obj(
                        {
                            "id": _UUID,
                            "status": {"type": "string", "enum": ["pending"]},
                            "phone_number_masked": _MASKED,
                        }
                    ),
                    "The recovery; the code is on its way and the user is emailed.",
                )
            },
            errors=(
                "permission_denied",
                *GUARDED,
                *BODY,
                "invalid_credentials",
                "recovery_not_allowed",
                *SEND_GATE,
            ),
        )
    },
    RECOVERY + "RecoveryCompleteView": {
        "post": operation(
            tag="recovery",
            summary="Check the recovery code; the account is recovered",
            ids=("recovery_id",),
            request=json_body({"code": _CODE}),
            success={
                200: answer(
                    obj({"status": {"type": "string", "enum": ["recovered"]}}), "Recovered."
                )
            },
            errors=(*FLOW, *BODY, *CODE_CHECK),
        )
    },
    "intelliauth_sms.api.normalise.PhoneNumberNormaliseView": {
        "post": operation(
            tag="phone numbers",
            summary="A number as typed, for a country, in E.164 (stores nothing)",
            request=json_body(
                {
                    "country": {
                        "type": "string",
                        "pattern": "^[A-Z]{2}$",
                        "example": "GB",
                        "description": "ISO 3166-1 alpha-2",
                    },
                    "number": {"type": "string", "example": "07911 123456"},
                }
            ),
            success={
                200: answer(
                    obj({"phone_number": _E164, "phone_number_masked": _MASKED}),
                    "The number in E.164, and masked.",
                )
            },
            errors=(*SIGNED_IN, *BODY, "invalid_phone_number"),
        )
    },
    WEBHOOKS + "TwilioStatusView": {
        "post": operation(
            tag="webhooks",
            summary="Twilio's status callback (form-encoded, signed)",
            request={
                "application/x-www-form-urlencoded": {
                    "type": "object",
                    "properties": {
                        "MessageSid": {"type": "string"},
                        "MessageStatus": {"type": "string"},
                        "ErrorCode": {"type": "string"},
                    },
                    "additionalProperties": {"type": "string"},
                }
            },
            parameters=[
                OpenApiParameter(
                    "X-Twilio-Signature",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="Twilio's signature of the URL and the parameters.",
                )
            ],
            success={204: answer(None, "Recorded (or a status the app does not track).")},
            errors=(*BODY, "invalid_signature"),
        )
    },
    WEBHOOKS + "VonageStatusView": {
        "post": operation(
            tag="webhooks",
            summary="Vonage's signed delivery receipt (form-encoded or JSON)",
            request={
                media: {
                    "type": "object",
                    "properties": {
                        "messageId": {"type": "string"},
                        "status": {"type": "string"},
                        "err-code": {"type": "string"},
                        "timestamp": {"type": "string"},
                        "sig": {"type": "string"},
                    },
                    "additionalProperties": {"type": "string"},
                }
                for media in ("application/x-www-form-urlencoded", "application/json")
            },
            success={204: answer(None, "Recorded (or a status the app does not track).")},
            errors=(*BODY, "invalid_signature"),
        )
    },
}


# --- registering them ----------------------------------------------------------------------------


def _delegate(method: Callable[..., Any]) -> Callable[..., Any]:
    """A new function calling ``method``: ``extend_schema`` marks it, not the real view's."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    return call


def _subclass(view: type[Any]) -> type[Any]:
    return type(view.__name__, (view,), {"__doc__": view.__doc__, "__module__": view.__module__})


class DocumentedView(OpenApiViewExtension):
    """Replace one view, while the schema is generated, by a subclass with its schema."""

    operations: ClassVar[dict[str, dict[str, Any]]] = {}

    def view_replacement(self) -> Any:
        view = _subclass(self.target)
        for method, arguments in self.operations.items():
            documented = extend_schema(**arguments)(_delegate(getattr(view, method)))
            setattr(view, method, documented)
        return view


for _path, _operations in OPERATIONS.items():
    type(
        f"{_path.rsplit('.', 1)[1]}Schema",
        (DocumentedView,),
        {"target_class": _path, "operations": _operations, "__module__": __name__},
    )


class UnknownPathSchema(OpenApiViewExtension):
    """The catch-all ``not_found`` route is not an endpoint: leave it out of the schema."""

    target_class = VIEWS + "UnknownPathView"

    def view_replacement(self) -> Any:
        return extend_schema(exclude=True)(_subclass(self.target))


class SessionCookieCsrfScheme(OpenApiAuthenticationExtension):
    """``SessionCookieCsrf`` authenticates nobody: it adds no security requirement."""

    target_class = "intelliauth_sms.api.csrf.SessionCookieCsrf"
    name: ClassVar[list[str]] = []  # type: ignore[misc]

    def get_security_requirement(self, auto_schema: Any) -> None:  # type: ignore[override]
        return None

    def get_security_definition(self, auto_schema: Any) -> list[Schema]:
        return []
