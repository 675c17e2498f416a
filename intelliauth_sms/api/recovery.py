"""Account recovery endpoints: security questions and answers, ``recovery/`` (issue 8)."""

from __future__ import annotations

from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from intelliauth_sms.api import inputs
from intelliauth_sms.api.views import FlowView, SignedInView, SmsApiView
from intelliauth_sms.models import Tenant
from intelliauth_sms.services import recovery, security_answers
from intelliauth_sms.tenancy import tenant_for


class SecurityQuestionsView(SmsApiView):
    """GET ``security-questions/``: the site's questions, then the tenant's own.

    A signed-in user gets their tenant's; a recovery page (nobody signed in) may name its
    tenant with ``?tenant=<slug>``; an unknown slug lists the site's questions only.
    """

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        tenant: Tenant | None = None
        if request.user.is_authenticated:
            tenant = tenant_for(request.user)
        else:
            slug = request.query_params.get("tenant")
            if isinstance(slug, str) and 0 < len(slug) <= 50:
                tenant = Tenant.objects.filter(slug=slug).first()
        questions = security_answers.offered_questions(tenant)
        return Response([{"id": q.id, "text": q.text} for q in questions])


class SecurityAnswersView(SignedInView):
    """PUT ``security-answers/``: replace the signed-in user's answers (stored hashed).

    Sensitive (MFA-bound, within the re-authentication window) and emailed to the user.
    """

    sensitive_action = True

    def put(self, request: Request) -> Response:
        body = inputs.json_object(request)
        security_answers.set_answers(request.user, body.get("answers"), request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecoveryStartView(FlowView):
    """POST ``recovery/``: re-prove, then a code to the verified backup phone."""

    def post(self, request: Request) -> Response:
        body = inputs.json_object(request)
        started, backup, _issued = recovery.request_recovery(
            body.get("username"),
            body.get("password"),
            body.get("security_answers"),
            request=request._request,
        )
        return Response(
            {
                "id": str(started.id),
                "status": "pending",
                "phone_number_masked": backup.phone_number_masked,
            },
            status=status.HTTP_202_ACCEPTED,
        )


class RecoveryCompleteView(FlowView):
    """POST ``recovery/{id}/complete/``: the code from the backup phone; ``recovered``."""

    def post(self, request: Request, recovery_id: str) -> Response:
        body = inputs.json_object(request)
        recovery.complete_recovery(recovery_id, body.get("code"), request=request._request)
        return Response({"status": "recovered"})
