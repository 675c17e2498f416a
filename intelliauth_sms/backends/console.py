"""A development backend that prints each SMS (the number masked, the text whole)."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from intelliauth_sms.backends.base import BaseSmsBackend, OutgoingSms
from intelliauth_sms.phone import mask_last4


class SmsBackend(BaseSmsBackend):
    """Writes messages to ``stream`` (stdout by default). For development only."""

    def __init__(self, *, stream: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send(self, sms: OutgoingSms) -> str:
        with self._lock:
            self.stream.write(f"--- SMS to {mask_last4(sms.to[-4:])} ---\n{sms.body}\n{'-' * 30}\n")
            self.stream.flush()
        return ""
