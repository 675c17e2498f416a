"""The one HTTP client the Twilio and Vonage backends share (urllib3, the ``twilio`` and
``vonage`` extras).

Why urllib3 and not the providers' SDKs or the standard library: one pooled
``PoolManager`` per process keeps TLS connections to the provider alive between the sends
of a Celery worker (the stdlib's ``urllib.request`` opens a new connection, and does a new
TLS handshake, for every SMS); its timeout covers connecting and reading as one budget;
automatic retries and redirects are switched off, so a send is attempted exactly once and
retrying stays the caller's decision; and it is small and typed, where the Twilio and Vonage
SDKs bring their own HTTP stacks, retry policies and exception trees that would each need
mapping. botocore (the ``aws`` extra) already depends on it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from intelliauth_sms.backends.base import ProviderSmsBackend

_pool: urllib3.PoolManager | None = None
_pool_lock = threading.Lock()


def pool() -> urllib3.PoolManager:
    """The process's connection pool (thread-safe, created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = urllib3.PoolManager(retries=False, maxsize=10, block=False)
        return _pool


@dataclass(frozen=True)
class HttpRequest:
    """A form-encoded POST: where, which fields, which headers."""

    url: str
    fields: Mapping[str, str]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpAnswer:
    """The provider's answer: the status and the JSON body (``{}`` when it is not JSON)."""

    status: int
    data: dict[str, Any]


class HttpSmsBackend(ProviderSmsBackend[HttpRequest, HttpAnswer]):
    """A provider reached by one form-encoded POST that answers JSON."""

    def post(self, request: HttpRequest) -> HttpAnswer:
        """POST ``request`` within ``TIMEOUT`` seconds; no answer is a transient error."""
        try:
            response = pool().request(
                "POST",
                request.url,
                fields=dict(request.fields),
                headers=dict(request.headers),
                encode_multipart=False,
                timeout=urllib3.Timeout(total=self.timeout),
                retries=False,
                redirect=False,
            )
        except NewConnectionError as exc:
            # Checked first: urllib3 makes it a subclass of its connect timeout.
            raise self.error(provider_code="connection_error", message="no connection") from exc
        except Urllib3TimeoutError as exc:
            raise self.error(provider_code="timeout", message="no answer in time") from exc
        except HTTPError as exc:
            raise self.error(provider_code="connection_error", message="no answer") from exc
        try:
            data = json.loads(response.data or b"{}")
        except ValueError:
            data = {}
        return HttpAnswer(response.status, data if isinstance(data, dict) else {})
