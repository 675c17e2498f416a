"""A development backend that writes one file per SMS into ``SMS_FILE_PATH``."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from intelliauth_sms.backends.base import BaseSmsBackend, OutgoingSms
from intelliauth_sms.conf import app_settings


class SmsBackend(BaseSmsBackend):
    """Writes ``<id>.json`` files with ``to`` and ``body``. For development and tests only."""

    def __init__(self, *, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        path = file_path or app_settings.SMS_FILE_PATH
        if not path:
            raise ImproperlyConfigured(
                "The filebased SMS backend needs INTELLIAUTH_SMS['SMS_FILE_PATH']."
            )
        self.directory = Path(path)
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, sms: OutgoingSms) -> str:
        name = sms.message_id or uuid.uuid4().hex
        final = self.directory / f"{name}.json"
        partial = self.directory / f".{name}.tmp"
        partial.write_text(json.dumps({"to": sms.to, "body": sms.body}))
        # Rename so a reader never sees a half-written file.
        os.replace(partial, final)
        return name
