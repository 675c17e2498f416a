"""The demo site's own page: the account page, where a signed-in user manages phones.

Signing in is the app's drop-in (``intelliauth_sms.urls``, included at ``/accounts/`` by
``example_project.urls``); this is the kind of page a customer's site adds around it.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from example_project.demo.countries import DEFAULT_COUNTRY, countries
from intelliauth_sms.models import SecurityAnswer
from intelliauth_sms.services.access import refusal_for
from intelliauth_sms.services.factors import factors_of
from intelliauth_sms.services.security_answers import offered_questions
from intelliauth_sms.signin.navigation import api_base_url
from intelliauth_sms.tenancy import tenant_for


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
            "questions": offered_questions(tenant_for(request.user)),
            "answered": SecurityAnswer.objects.filter(user=request.user).count(),
            "countries": countries(),
            "default_country": DEFAULT_COUNTRY,
            "api_base_url": api_base_url(),
        },
    )
