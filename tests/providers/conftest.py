"""A fake provider: an HTTP server on 127.0.0.1 that records each request and answers from a
script, so the Twilio and Vonage backends are tested end to end without the internet."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest


@dataclass
class Reply:
    """One scripted answer: status, JSON body, and how long to wait before answering."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


class FakeProvider:
    """Answers each POST with the next ``Reply`` (the last one repeats)."""

    def __init__(self) -> None:
        self.replies: list[Reply] = [Reply()]
        self.received: list[Received] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                provider.received.append(
                    Received(self.path, dict(self.headers.items()), dict(parse_qsl(raw)))
                )
                reply = (
                    provider.replies.pop(0) if len(provider.replies) > 1 else provider.replies[0]
                )
                if reply.delay:
                    time.sleep(reply.delay)
                payload = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, *replies: Reply) -> None:
        self.replies = list(replies)


def _running() -> Iterator[FakeProvider]:
    provider = FakeProvider()
    thread = threading.Thread(target=provider.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    yield from _running()


@pytest.fixture
def second_provider() -> Iterator[FakeProvider]:
    """Another fake provider, for failover across a list of backends."""
    yield from _running()


@pytest.fixture
def closed_port_url() -> str:
    """A 127.0.0.1 URL where nothing listens (a connection error)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


TWILIO = "intelliauth_sms.backends.twilio.SmsBackend"
LOCMEM = "intelliauth_sms.backends.locmem.SmsBackend"


def twilio_settings(url: str, **extra: Any) -> dict[str, Any]:
    """``INTELLIAUTH_SMS["TWILIO"]`` for a fake Twilio at ``url``."""
    return {
        "ACCOUNT_SID": "AC1",
        "AUTH_TOKEN": "t",
        "FROM": "+15005550006",
        "API_URL": url,
        **extra,
    }


@pytest.fixture
def twilio_site(settings: Any, fake_provider: FakeProvider) -> FakeProvider:
    """The site sends through the Twilio backend, to ``fake_provider``."""
    settings.INTELLIAUTH_SMS = {
        **settings.INTELLIAUTH_SMS,
        "SMS_BACKEND": TWILIO,
        "TWILIO": twilio_settings(fake_provider.url),
    }
    return fake_provider
