"""The drop-in's account recovery pages: "Lost access to your phone?" (issue 8).

``recover/`` re-proves the user (password, and the security answers they set) and sends a
code to their verified backup phone; ``recover/<id>/`` takes the code, logs the user in
once (with the session's MFA time) and sends them to ``RECOVERY_REDIRECT_URL`` to set up
their sign-in phone again. Both call the same services as the API (``services.recovery``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from intelliauth_sms.conf import app_settings
from intelliauth_sms.exceptions import NotFound, SmsError
from intelliauth_sms.flows import FlowNotUsable
from intelliauth_sms.models import Tenant
from intelliauth_sms.services import recovery
from intelliauth_sms.services.security_answers import offered_questions
from intelliauth_sms.signin.navigation import signin_url

START_TEMPLATE = "intelliauth_sms/signin/recover.html"
CODE_TEMPLATE = "intelliauth_sms/signin/recover_code.html"
ANSWER_PREFIX = "answer-"


def _tenant(request: HttpRequest) -> Tenant | None:
    slug = request.GET.get("tenant") or request.POST.get("tenant") or ""
    return Tenant.objects.filter(slug=slug).first() if 0 < len(slug) <= 50 else None


def _answers(request: HttpRequest) -> dict[str, str]:
    """The security answers typed: ``answer-<question id>`` fields that are not empty."""
    answers: dict[str, str] = {}
    for key in request.POST:
        value = request.POST.get(key, "")
        if key.startswith(ANSWER_PREFIX) and isinstance(value, str) and value.strip():
            answers[key.removeprefix(ANSWER_PREFIX)] = value
    return answers


@sensitive_post_parameters()
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def recover_view(request: HttpRequest) -> HttpResponse:
    """``recover/``: username, password and security answers, then a code by SMS."""
    tenant = _tenant(request)
    error: str | None = None
    if request.method == "POST":
        try:
            started, backup, _issued = recovery.request_recovery(
                request.POST.get("username", ""),
                request.POST.get("password", ""),
                _answers(request),
                request=request,
                bind_to_session=True,
            )
        except SmsError as refusal:
            error = refusal.message
        else:
            return redirect(signin_url(request, "recover-code", started.id))
    return render(
        request,
        START_TEMPLATE,
        {
            "questions": offered_questions(tenant),
            "tenant": tenant.slug if tenant else "",
            "username": request.POST.get("username", "")[:150],
            "error": error,
        },
    )


def _after_recovery() -> str:
    target = app_settings.RECOVERY_REDIRECT_URL or settings.LOGIN_REDIRECT_URL
    return resolve_url(target)


@sensitive_post_parameters()
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def recover_code_view(request: HttpRequest, recovery_id: str) -> HttpResponse:
    """``recover/<id>/``: the code from the backup phone; then signed in, to re-enrol."""
    try:
        pending = recovery.get_recovery(recovery_id, request=request)
    except NotFound:
        messages.error(request, _("That recovery has expired. Start again."))
        return redirect(signin_url(request, "recover"))
    error: str | None = None
    if request.method == "POST":
        try:
            recovery.complete_recovery(pending.id, request.POST.get("code", ""), request=request)
            recovery.recovery_login(request, pending.id)
        except SmsError as refusal:
            error = refusal.message
        except FlowNotUsable:
            messages.error(request, _("That recovery has expired. Start again."))
            return redirect(signin_url(request, "recover"))
        else:
            messages.success(request, _("You're back in. Set up the phone you sign in with again."))
            return redirect(_after_recovery())
    return render(
        request,
        CODE_TEMPLATE,
        {
            "phone_number_masked": pending.factor.phone_number_masked if pending.factor else "",
            "error": error,
        },
    )
