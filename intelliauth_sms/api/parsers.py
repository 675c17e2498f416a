"""A JSON parser that refuses oversized bodies before reading them."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from intelliauth_sms.conf import app_settings


class BoundedJSONParser(JSONParser):
    """``JSONParser`` with a body limit of ``INTELLIAUTH_SMS["MAX_BODY_BYTES"]``."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        limit = app_settings.MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if declared > limit:
            raise ParseError("Request body too large.")
        # Read one byte past the limit so a body without Content-Length is bounded too.
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ParseError("Request body too large.")
        import io

        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:
            # Deeply nested JSON ("[[[[…") fits in the limit but overflows the decoder.
            raise ParseError("JSON nested too deeply.") from exc
