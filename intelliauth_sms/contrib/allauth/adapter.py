"""The django-allauth account adapter whose phone codes go out through this app.

``ACCOUNT_ADAPTER = "intelliauth_sms.contrib.allauth.adapter.AccountAdapter"``, with the
site's own ``set_phone`` / ``get_phone`` / ``set_phone_verified`` / ``get_user_by_phone``
(where the site keeps its users' numbers); or mix ``SmsDeliveryMixin`` into the site's
adapter, before ``DefaultAccountAdapter``.
"""

from __future__ import annotations

from typing import Any

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.shortcuts import render

from intelliauth_sms.contrib.allauth import sending
from intelliauth_sms.exceptions import SmsError

REFUSED_TEMPLATE = "intelliauth_sms/allauth/sms_refused.html"


def code_ttl_seconds(kwargs: dict[str, Any]) -> int:
    """How long allauth keeps the code: login codes carry ``reauthentication``."""
    if "reauthentication" in kwargs:
        return int(allauth_settings.LOGIN_BY_CODE_TIMEOUT)
    return int(allauth_settings.PHONE_VERIFICATION_TIMEOUT)


def refusal_response(request: HttpRequest | None, refusal: SmsError) -> Any:
    """The page allauth shows instead of its code form: the guide's copy for the refusal.

    allauth's ``AccountMiddleware`` returns an ``ImmediateHttpResponse``'s response as is.
    """
    response = render(
        request,
        REFUSED_TEMPLATE,
        {"message": refusal.message, "code": refusal.code},
        status=refusal.status_code,
    )
    retry_after = getattr(refusal, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return ImmediateHttpResponse(response)


class SmsDeliveryMixin:
    """``send_verification_code_sms`` through the gate, the records and the Celery task."""

    def send_verification_code_sms(
        self, user: AbstractBaseUser, phone: str, code: str, **kwargs: Any
    ) -> None:
        """Send allauth's ``code`` to ``phone``; a refusal answers with the guide's copy.

        Nothing is sent when the gate refuses (country rules, cost cap, pumping breaker,
        per-number, per-user or per-address limits); the refusal is audited.
        """
        request = getattr(context, "request", None)
        try:
            sending.send_code(
                user, phone, code, ttl_seconds=code_ttl_seconds(kwargs), request=request
            )
        except SmsError as refusal:
            raise refusal_response(request, refusal) from refusal

    def set_phone_verified(self, user: AbstractBaseUser, phone: str) -> None:
        """Count the code as typed back (the pumping breaker's conversion).

        The site's own ``set_phone_verified`` stores the verified flag and calls
        ``super().set_phone_verified(user, phone)`` to reach this.
        """
        sending.mark_verified(user, phone)


class AccountAdapter(SmsDeliveryMixin, DefaultAccountAdapter):
    """allauth's default adapter with this app's SMS delivery.

    The site still implements where numbers live: subclass it and define ``set_phone``,
    ``get_phone``, ``set_phone_verified`` (calling ``super()`` first) and
    ``get_user_by_phone``.
    """
