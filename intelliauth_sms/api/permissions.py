"""DRF permission for MFA-bound access (CONTRACT §3), over ``services.access``."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from intelliauth_sms.services.access import require_sms_step


class PassedSmsStep(BasePermission):
    """The signed-in user passed the SMS step, recently enough for a sensitive view.

    A view marks itself sensitive with ``sensitive_action = True`` (reveal, remove, enrol
    another factor). Refusals raise the contract's errors themselves (``mfa_required``,
    ``reauthentication_required``) rather than DRF's generic ``permission_denied``.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        require_sms_step(
            request, request.user, sensitive=bool(getattr(view, "sensitive_action", False))
        )
        return True
