"""The backend interface every SMS backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OutgoingSms:
    """One SMS to deliver: the E.164 destination and the text."""

    to: str
    body: str
    message_id: str = ""


class SmsBackendError(Exception):
    """Delivery failed. ``transient`` errors are retried; the message never holds the body."""

    def __init__(
        self, message: str, *, backend: str = "", status: int | None = None, transient: bool = False
    ) -> None:
        super().__init__(message)
        self.backend = backend
        self.status = status
        self.transient = transient


class BaseSmsBackend:
    """Base class: subclasses implement ``send``.

    ``fail_silently`` mirrors Django's email backends; the app's delivery task always passes
    ``False`` so that failures are recorded.
    """

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        self.fail_silently = fail_silently

    def send(self, sms: OutgoingSms) -> str:
        """Deliver ``sms``; return the provider's message id (or "")."""
        raise NotImplementedError("SMS backends must implement send().")
