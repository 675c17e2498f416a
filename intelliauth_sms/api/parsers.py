"""A JSON parser that refuses oversized or deeply nested bodies before decoding them."""

from __future__ import annotations

import io
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from intelliauth_sms.conf import app_settings

#: No body of this API nests deeper than 3 levels; 32 leaves room for a site's own fields.
#: A limit of our own, because how deep Python's decoder goes before a ``RecursionError``
#: depends on the version (3.13 decodes 5 000 levels that 3.12 refused).
MAX_JSON_DEPTH = 32
#: What can change the depth outside strings, and the strings themselves (with escapes).
_BRACKETS_AND_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nesting_depth(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text go (brackets inside strings ignored)."""
    depth = deepest = 0
    for token in _BRACKETS_AND_STRINGS.finditer(raw):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif char in (b"]", b"}"):
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """``JSONParser`` with a body limit of ``INTELLIAUTH_SMS["MAX_BODY_BYTES"]`` and a nesting
    limit of ``MAX_JSON_DEPTH``."""

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
        if nesting_depth(raw) > MAX_JSON_DEPTH:
            raise ParseError("JSON nested too deeply.")
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:
            # Belt and braces: the depth check above comes first.
            raise ParseError("JSON nested too deeply.") from exc
