"""SMS backends, chosen by ``INTELLIAUTH_SMS["SMS_BACKEND"]`` like Django's email backends."""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string

from intelliauth_sms.backends.base import BaseSmsBackend, OutgoingSms, SmsBackendError
from intelliauth_sms.conf import app_settings


def get_backend(path: str | None = None, **kwargs: Any) -> BaseSmsBackend:
    """An instance of the configured backend (or of ``path``)."""
    backend_class = import_string(path or app_settings.SMS_BACKEND)
    backend: BaseSmsBackend = backend_class(**kwargs)
    return backend


__all__ = ["BaseSmsBackend", "OutgoingSms", "SmsBackendError", "get_backend"]
