"""The request benchmark's URLs: the app's API and the floor, a bare DRF view."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class FloorView(APIView):
    """What any API request costs at least: DRF parses a JSON body, one indexed SELECT
    (a user by primary key), a JSON answer."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        user_id = request.data.get("user_id")
        username = (
            get_user_model().objects.filter(pk=user_id).values_list("username", flat=True).first()
        )
        return Response({"username": username})


urlpatterns = [
    path("floor/", FloorView.as_view()),
    path("api/mfa/sms/", include("intelliauth_sms.api.urls")),
]
