"""Thin DRF views: read the body, call one service, shape the answer."""

from __future__ import annotations

from typing import Any

from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from intelliauth_sms import mfa
from intelliauth_sms.api import inputs, representations
from intelliauth_sms.api.csrf import SessionCookieCsrf
from intelliauth_sms.api.errors import exception_handler
from intelliauth_sms.api.parsers import BoundedJSONParser
from intelliauth_sms.api.permissions import PassedSmsStep
from intelliauth_sms.api.throttle import RequestRateThrottle
from intelliauth_sms.exceptions import InvalidRequest, NotFound
from intelliauth_sms.services import enrolment, factors, flows
from intelliauth_sms.services.access import credit_first_factor


class SmsApiView(APIView):
    """Base view: bounded JSON bodies, the flood guard, and the contract's error body."""

    parser_classes = [BoundedJSONParser]

    def get_exception_handler(self) -> Any:
        return exception_handler

    def perform_authentication(self, request: Request) -> None:
        # The flood guard runs first, before authentication and permissions cost queries.
        # DRF has negotiated the answer's format by now, so an unexpected error in the
        # guard (a cache that cannot be reached, a missing ``redis`` package) surfaces as
        # itself, not as "'Request' object has no attribute 'accepted_renderer'".
        flood_guard = RequestRateThrottle()
        if not flood_guard.allow_request(request, self):
            self.throttled(request, flood_guard.wait() or 1)
        super().perform_authentication(request)


class UnknownPathView(SmsApiView):
    """Any other path under the API's prefix: the contract's ``not_found`` body, not HTML."""

    permission_classes = [AllowAny]

    def http_method_not_allowed(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        raise NotFound()

    def options(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        raise NotFound()


class SignedInView(SmsApiView):
    """A signed-in user who passed the SMS step, if they have a factor (MFA-bound access)."""

    permission_classes = [IsAuthenticated, PassedSmsStep]
    #: Reveal, remove and enrolling another factor need a recent SMS step.
    sensitive_action = False


class EnrolmentCreateView(SignedInView):
    """POST ``enrolments/``: start adding a phone; an SMS with a code is on its way.

    Sensitive: for a user who already has a factor this binds another one.
    """

    sensitive_action = True

    def post(self, request: Request) -> Response:
        body = inputs.json_object(request)
        pending, issued = enrolment.start_enrolment(
            request.user,
            body.get("phone_number"),
            purpose=inputs.factor_purpose(body),
            request=request._request,
        )
        return Response(
            representations.pending_enrolment(pending, issued.expires_at),
            status=status.HTTP_201_CREATED,
        )


class EnrolmentResendView(SignedInView):
    """POST ``enrolments/{id}/resend/``: a new code; the previous one stops working."""

    def post(self, request: Request, enrolment_id: str) -> Response:
        inputs.json_object(request)
        pending, issued = enrolment.resend_enrolment_code(
            request.user, enrolment_id, request=request._request
        )
        return Response(
            representations.pending_enrolment(pending, issued.expires_at),
            status=status.HTTP_202_ACCEPTED,
        )


class EnrolmentCompleteView(SignedInView):
    """POST ``enrolments/{id}/complete/``: the code typed back; the factor is enrolled."""

    def post(self, request: Request, enrolment_id: str) -> Response:
        body = inputs.json_object(request)
        factor = enrolment.complete_enrolment(
            request.user, enrolment_id, body.get("code"), request=request._request
        )
        credit_first_factor(request, request.user, factor)
        return Response(
            {"kind": "enrolled", "factor": representations.enrolled_factor(factor)},
            status=status.HTTP_201_CREATED,
        )


class FactorListView(SignedInView):
    """GET ``factors/``: the caller's own factors, masked."""

    def get(self, request: Request) -> Response:
        return Response(
            [representations.listed_factor(f) for f in factors.factors_of(request.user)]
        )


class FactorDetailView(SignedInView):
    """DELETE ``factors/{id}/``: remove one of the caller's factors."""

    sensitive_action = True

    def delete(self, request: Request, factor_id: str) -> Response:
        factors.remove_factor(request.user, factor_id, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FactorRevealView(SignedInView):
    """POST ``factors/{id}/reveal/``: the full number, recorded in the audit trail."""

    sensitive_action = True

    def post(self, request: Request, factor_id: str) -> Response:
        inputs.json_object(request)
        number = factors.reveal_factor(request.user, factor_id, request=request._request)
        response = Response({"phone_number": number})
        # A full number must not stay in a browser or proxy cache (CONTRACT §3).
        add_never_cache_headers(response)
        return response


class ReauthenticationView(SignedInView):
    """POST ``reauthentication/``: a step-up flow for the signed-in user, bound to the session.

    Open to a password-only session too: passing the SMS step is exactly what it proves.
    """

    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        inputs.json_object(request)
        if not mfa.authenticated_by_session(request):
            raise InvalidRequest(
                _(
                    "Re-authentication needs a signed-in browser session. Token sites start "
                    "a new flow and issue a new token (see the README)."
                )
            )
        flow = flows.start_step_up(request.user, request=request._request)
        return Response(
            {"flow_id": str(flow.id), "expires_at": representations.timestamp(flow.expires_at)},
            status=status.HTTP_201_CREATED,
        )


class FlowView(SmsApiView):
    """Base of the sign-in step endpoints: the flow id is the capability, no sign-in needed."""

    authentication_classes = [SessionCookieCsrf]
    permission_classes = [AllowAny]


class FlowInitiateView(FlowView):
    """POST ``flows/{flow_id}/sms/initiate/``: send the code; answers before delivery."""

    def post(self, request: Request, flow_id: str) -> Response:
        body = inputs.json_object(request)
        flow, factor, issued = flows.initiate_sms_step(
            flow_id, factor_id=inputs.optional_id(body, "factor_id"), request=request._request
        )
        return Response(
            {
                "status": "pending",
                "phone_number_masked": factor.phone_number_masked,
                "expires_at": representations.timestamp(issued.expires_at),
            },
            status=status.HTTP_202_ACCEPTED,
        )


class FlowCompleteView(FlowView):
    """POST ``flows/{flow_id}/sms/complete/``: check the code; the flow is verified."""

    def post(self, request: Request, flow_id: str) -> Response:
        body = inputs.json_object(request)
        flows.complete_sms_step(flow_id, body.get("code"), request=request._request)
        return Response({"status": "verified"})
