"""The demo site: a sign-in with the SMS step, and an account page to manage phones.

This is how a site wires intelliauth_sms into its own login: the password step calls
``start_flow`` and sends the browser to the SMS step page; that page talks to the API with
the app's JavaScript client; once the API answers ``verified`` the page POSTs to the finish
view, which calls ``complete_login``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from example_project.demo.countries import DEFAULT_COUNTRY, countries
from intelliauth_sms.exceptions import NotFound
from intelliauth_sms.flows import FlowNotUsable, complete_login, get_flow, start_flow
from intelliauth_sms.models import FactorPurpose
from intelliauth_sms.services.access import refusal_for
from intelliauth_sms.services.factors import factors_of

NEXT = "next"


def _api_base_url() -> str:
    """Where the site included ``intelliauth_sms.api.urls`` (``/api/mfa/sms/`` here)."""
    return reverse("intelliauth_sms:enrolment-create").removesuffix("enrolments/")


def _safe_next(request: HttpRequest) -> str | None:
    """The ``next`` URL of the request, if it points into this site."""
    candidate = request.POST.get(NEXT) or request.GET.get(NEXT)
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _with_next(url: str, next_url: str | None) -> str:
    return f"{url}?{urlencode({NEXT: next_url})}" if next_url else url


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """``/login/``: username and password; then the SMS step if the user has a phone for it."""
    next_url = _safe_next(request)
    form = AuthenticationForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if user.sms_factors.filter(purpose=FactorPurpose.MFA).exists():
            # The password is right; the user is not signed in until the SMS step is done.
            flow = start_flow(user, request=request)
            return redirect(_with_next(reverse("demo:sms-step", args=[flow.id]), next_url))
        auth_login(request, user)
        return redirect(next_url or "demo:account")
    return render(
        request,
        "demo/login.html",
        {"form": form, "next": next_url or ""},
    )


@csrf_protect
@ensure_csrf_cookie
@never_cache
@require_GET
def sms_step_view(request: HttpRequest, flow_id: str) -> HttpResponse:
    """``/login/sms/<flow_id>/``: the page sends the code and checks it through the API."""
    try:
        flow = get_flow(flow_id, request=request)
    except NotFound:
        flow = None
    if flow is None or flow.logged_in_at is not None:
        messages.error(request, _("That sign-in has expired. Sign in again."))
        return redirect("demo:login")
    return render(
        request,
        "demo/sms_step.html",
        {
            "flow_id": str(flow.id),
            # Verified but not finished (a reload at the last moment): just finish.
            "verified": flow.is_verified,
            "api_base_url": _api_base_url(),
            "finish_url": reverse("demo:sms-finish", args=[flow.id]),
            "next": _safe_next(request) or "",
        },
    )


@csrf_protect
@never_cache
@require_POST
def sms_finish_view(request: HttpRequest, flow_id: str) -> HttpResponse:
    """``/login/sms/<flow_id>/finish/``: POSTed by the page once the API said ``verified``."""
    next_url = _safe_next(request)
    try:
        flow = get_flow(flow_id, request=request)
    except NotFound:
        flow = None
    if flow is not None and not flow.is_verified and flow.logged_in_at is None:
        messages.error(request, _("Enter the code from the SMS first."))
        return redirect(_with_next(reverse("demo:sms-step", args=[flow.id]), next_url))
    try:
        complete_login(request, flow_id)
    except FlowNotUsable:
        messages.error(request, _("That sign-in has expired. Sign in again."))
        return redirect("demo:login")
    return redirect(next_url or "demo:account")


@ensure_csrf_cookie
@never_cache
@login_required
@require_GET
def account_view(request: HttpRequest) -> HttpResponse:
    """``/account/``: the user's phones, masked, with reveal, remove and "Add a phone".

    A session that has not passed the SMS step (the user has a phone) sees no list: the
    page runs the step first, as the API would refuse it (MFA-bound access).
    """
    needs_sms_step = refusal_for(request, request.user, sensitive=False) is not None
    return render(
        request,
        "demo/account.html",
        {
            "factors": [] if needs_sms_step else factors_of(request.user),
            "needs_sms_step": needs_sms_step,
            "countries": countries(),
            "default_country": DEFAULT_COUNTRY,
            "api_base_url": _api_base_url(),
        },
    )


@require_GET
def login_redirect_view(request: HttpRequest) -> HttpResponse:
    """The admin's and DRF's password-only login pages send people to ``/login/`` instead.

    Otherwise a user with an SMS factor could sign in there without the SMS step.
    """
    return redirect(_with_next(reverse("demo:login"), _safe_next(request)))
