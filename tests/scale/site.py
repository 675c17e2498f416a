"""What the scale tier's site adds to the test settings: a token and a client address per
simulated client, both read from request headers.

``SignedUserToken`` is a token site's authentication (the README's token-site pattern): a
token signed by the site names the user and says the holder passed the SMS step, which
``tests.mfa.verified_at`` reads. ``header_client_ip`` stands for a trusted proxy's
``X-Forwarded-For``: every simulated client gets its own address, so the tier can drive
per-IP limits exactly (or keep them out of the way).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from tests.mfa import verified_token

TOKEN_SALT = "intelliauth-sms-scale-tier"
CLIENT_IP_HEADER = "HTTP_X_TEST_CLIENT_IP"


def token_for(user: Any) -> str:
    """The ``Authorization`` header value for ``user``."""
    return "Scale " + signing.dumps(user.pk, salt=TOKEN_SALT)


class SignedUserToken(BaseAuthentication):
    """``Authorization: Scale <signed user id>``: the user, having passed the SMS step."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Scale "):
            return None
        try:
            user_id = signing.loads(header.removeprefix("Scale "), salt=TOKEN_SALT)
            user = get_user_model().objects.get(pk=user_id)
        except (signing.BadSignature, get_user_model().DoesNotExist) as exc:
            raise AuthenticationFailed("bad token") from exc
        return user, verified_token()


def header_client_ip(request: HttpRequest) -> str | None:
    """``CLIENT_IP_RESOLVER`` of the tier: the address the simulated client claims."""
    try:
        return str(ipaddress.ip_address(request.META.get(CLIENT_IP_HEADER, "")))
    except ValueError:
        return None
