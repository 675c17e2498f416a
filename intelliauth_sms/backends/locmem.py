"""A backend for tests: messages are appended to ``outbox``."""

from __future__ import annotations

from intelliauth_sms.backends.base import BaseSmsBackend, OutgoingSms

#: Every message sent through this backend in this process, oldest first.
outbox: list[OutgoingSms] = []


class SmsBackend(BaseSmsBackend):
    """Keeps messages in memory (``intelliauth_sms.backends.locmem.outbox``)."""

    def send(self, sms: OutgoingSms) -> str:
        outbox.append(sms)
        return f"locmem-{len(outbox)}"
