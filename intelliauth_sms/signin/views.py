"""The drop-in sign-in's views: password, the SMS step page, finishing, logging out.

The password step is Django's ``AuthenticationForm`` behind the per-username and per-IP
limits (``SignInForm``). A user with a sign-in phone is not logged in by it: it starts a
flow bound to this browser session (``start_flow``) and sends the browser to the SMS step
page, which sends and checks the code through the API with the app's JavaScript client,
then POSTs to the finish view, which calls ``complete_login``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from intelliauth_sms.exceptions import NotFound
from intelliauth_sms.flows import FlowNotUsable, complete_login, get_flow, start_flow
from intelliauth_sms.models import AuthFlow, FlowKind
from intelliauth_sms.services.access import has_sign_in_factor
from intelliauth_sms.signin.forms import SignInForm
from intelliauth_sms.signin.navigation import (
    after_sign_in,
    api_base_url,
    safe_next,
    signin_url,
    with_next,
)
from intelliauth_sms.signin.page_copy import sms_step_copy

LOGIN_TEMPLATE = "intelliauth_sms/signin/login.html"
SMS_STEP_TEMPLATE = "intelliauth_sms/signin/sms_step.html"


def _expired(request: HttpRequest) -> HttpResponse:
    messages.error(request, _("That sign-in has expired. Sign in again."))
    return redirect(with_next(signin_url(request, "login"), safe_next(request)))


def _sign_in_flow(request: HttpRequest, flow_id: str) -> AuthFlow | None:
    """This browser's live sign-in flow ``flow_id`` (a step-up flow is not one)."""
    try:
        flow = get_flow(flow_id, request=request)
    except NotFound:
        return None
    return flow if flow.kind == FlowKind.SIGN_IN else None


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """``login/``: username and password; then the SMS step if the user has a sign-in phone."""
    next_url = safe_next(request)
    form = SignInForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if has_sign_in_factor(user):
            # The password is right; the user is not signed in until the SMS step is done.
            flow = start_flow(user, request=request)
            return redirect(with_next(signin_url(request, "sms-step", flow.id), next_url))
        auth_login(request, user)
        return redirect(after_sign_in(request))
    return render(request, LOGIN_TEMPLATE, {"form": form, "next": next_url or ""})


@csrf_protect
@ensure_csrf_cookie
@never_cache
@require_GET
def sms_step_view(request: HttpRequest, flow_id: str) -> HttpResponse:
    """``login/sms/<flow_id>/``: the page sends the code and checks it through the API."""
    flow = _sign_in_flow(request, flow_id)
    if flow is None or flow.logged_in_at is not None:
        return _expired(request)
    return render(
        request,
        SMS_STEP_TEMPLATE,
        {
            "flow_id": str(flow.id),
            # Verified but not finished (a reload at the last moment): the page just finishes.
            "verified": flow.is_verified,
            "api_base_url": api_base_url(),
            "finish_url": signin_url(request, "sms-finish", flow.id),
            "next": safe_next(request) or "",
            "copy": sms_step_copy(),
        },
    )


@csrf_protect
@never_cache
@require_POST
def sms_finish_view(request: HttpRequest, flow_id: str) -> HttpResponse:
    """``login/sms/<flow_id>/finish/``: POSTed by the page once the API said ``verified``."""
    flow = _sign_in_flow(request, flow_id)
    if flow is None:
        return _expired(request)
    if not flow.is_verified and flow.logged_in_at is None:
        messages.error(request, _("Enter the code from the SMS first."))
        step = signin_url(request, "sms-step", flow.id)
        return redirect(with_next(step, safe_next(request)))
    try:
        complete_login(request, flow)
    except FlowNotUsable:
        return _expired(request)
    return redirect(after_sign_in(request))


class SignOutView(LogoutView):
    """``logout/`` (POST only): Django's ``LogoutView``, ending on the login page by default.

    A safe ``next`` wins, then ``LOGOUT_REDIRECT_URL``, then the drop-in's login page.
    """

    def get_default_redirect_url(self) -> str:
        """``LOGOUT_REDIRECT_URL`` when set, else the login page (not Django's template)."""
        if self.next_page or settings.LOGOUT_REDIRECT_URL:
            return super().get_default_redirect_url()
        return signin_url(self.request, "login")
