"""SMS backends, chosen by ``INTELLIAUTH_SMS["SMS_BACKEND"]`` like Django's email backends.

``SMS_BACKEND`` is one dotted path or a list of them: ``send_with_failover`` tries each in
turn while the failure is transient (timeout, connection error, 429, 5xx) and stops at a
permanent one (invalid number, authentication), which another provider would refuse too.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils.module_loading import import_string

from intelliauth_sms.backends.base import (
    BaseSmsBackend,
    OutgoingSms,
    ProviderSmsBackend,
    SmsBackendError,
)
from intelliauth_sms.conf import app_settings

logger = logging.getLogger("intelliauth_sms.backends")


def get_backend(path: str | None = None, **kwargs: Any) -> BaseSmsBackend:
    """An instance of the configured backend (the first of a list), or of ``path``."""
    backend_class = import_string(path or app_settings.SMS_BACKEND)
    backend: BaseSmsBackend = backend_class(**kwargs)
    return backend


def send_with_failover(sms: OutgoingSms) -> str:
    """Send ``sms`` through the configured backends in order; the provider's message id.

    The next backend is tried only after a transient failure. A permanent failure, or the
    last backend's transient one, is raised (``SmsBackendError``) for the caller to record.
    """
    paths = app_settings.SMS_BACKENDS
    for position, path in enumerate(paths, start=1):
        try:
            return get_backend(path).send(sms)
        except SmsBackendError as exc:
            if not exc.transient or position == len(paths):
                raise
            # The provider's code and status only: never the number or the text.
            logger.warning("SMS %s: %s; trying %s", sms.message_id, exc.describe(), paths[position])
    raise AssertionError("SMS_BACKEND names no backend")  # SMS_BACKENDS is never empty


__all__ = [
    "BaseSmsBackend",
    "OutgoingSms",
    "ProviderSmsBackend",
    "SmsBackendError",
    "get_backend",
    "send_with_failover",
]
