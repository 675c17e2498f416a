"""App configuration: connects receivers and registers system checks."""

from __future__ import annotations

import importlib.util

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class IntelliAuthSmsConfig(AppConfig):
    name = "intelliauth_sms"
    verbose_name = _("SMS MFA")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # ``tasks`` registers the Celery tasks that ``services.dispatch`` publishes by name.
        from intelliauth_sms import checks, handlers, mfa, tasks  # noqa: F401 - registers
        from intelliauth_sms.models import Tenant, TenantMembership

        post_save.connect(
            handlers.create_tenant_policy, sender=Tenant, dispatch_uid="iasms_tenant_policy"
        )
        post_migrate.connect(
            handlers.ensure_default_tenant, sender=self, dispatch_uid="iasms_default_tenant"
        )
        for signal in (post_save, post_delete):
            signal.connect(
                handlers.membership_changed,
                sender=TenantMembership,
                dispatch_uid=f"iasms_membership_changed_{signal is post_save}",
            )
        user_logged_in.connect(
            mfa.forget_on_password_login, dispatch_uid="iasms_forget_mfa_time_on_login"
        )
        if importlib.util.find_spec("drf_spectacular") is not None:
            # The ``openapi`` extra: registers the API's schema with drf-spectacular.
            from intelliauth_sms.api import openapi  # noqa: F401
