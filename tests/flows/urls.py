"""A minimal site login for the session and CSRF tests: password step, SMS step, finish.

``login/`` (GET: a CSRF token; POST: username and password) starts a flow bound to the
browser's session, as issue 3 asks a site to do; ``login/finish/<flow_id>/`` calls
``complete_login``; ``whoami/`` tells who the session is signed in as. The app's API is
included as in ``tests.urls``.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.urls import path
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie

from intelliauth_sms.flows import FlowNotUsable, complete_login, start_flow
from tests.urls import urlpatterns as api_urlpatterns


@ensure_csrf_cookie
@csrf_protect
def login_view(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse({"csrf": get_token(request)})
    user = authenticate(
        request, username=request.POST.get("username"), password=request.POST.get("password")
    )
    if user is None:
        return JsonResponse({"error": "invalid_credentials"}, status=400)
    flow = start_flow(user, request=request)
    return JsonResponse({"flow_id": str(flow.id)})


@csrf_protect
def finish_view(request: HttpRequest, flow_id: str) -> JsonResponse:
    try:
        user = complete_login(request, flow_id)
    except FlowNotUsable as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"username": user.get_username()})


def whoami_view(request: HttpRequest) -> JsonResponse:
    user = request.user
    return JsonResponse({"username": user.get_username() if user.is_authenticated else None})


urlpatterns = [
    path("login/", login_view),
    path("login/finish/<str:flow_id>/", finish_view),
    path("whoami/", whoami_view),
    *api_urlpatterns,
]
