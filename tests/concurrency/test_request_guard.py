"""The per-IP request guard (django-ratelimit) counts across processes through Redis.

The test process makes API requests from one IP; a second Python process, with its own
Redis connection, runs the same guard for the same IP and must see those requests. Back in
the test process, the requests the other process made count too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from django_ratelimit.core import _get_window, _split_rate
from rest_framework.test import APIClient

from tests.concurrency.conftest import REPO_ROOT

pytestmark = [pytest.mark.services, pytest.mark.django_db]

RATE = "5/h"

OTHER_PROCESS = """
import json, sys

import django

django.setup()

from django.test import RequestFactory, override_settings
from rest_framework.request import Request

from intelliauth_sms.api.throttle import RequestRateThrottle

ip, rate, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
answers = []
with override_settings(INTELLIAUTH_SMS={"REQUEST_RATE": rate}):
    for _ in range(count):
        request = Request(RequestFactory().get("/api/mfa/sms/factors/", REMOTE_ADDR=ip))
        allowed = RequestRateThrottle().allow_request(request, None)
        answers.append("allowed" if allowed else "limited")
print(json.dumps(answers))
"""


def _ip_far_from_a_window_edge() -> str:
    """An IP whose fixed rate window does not end during the test.

    django-ratelimit windows are fixed, with an edge offset by a hash of the key (the IP);
    a window ending between the two processes' requests would reset the count.
    """
    _limit, period = _split_rate(RATE)
    for last in range(1, 255):
        ip = f"192.0.2.{last}"
        if _get_window(ip, period) - time.time() > 120:
            return ip
    raise AssertionError("no IP with two minutes left in its window")


def _guard_in_another_process(ip: str, count: int) -> list[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings_services"}
    env.pop("INTELLIAUTH_SMS_FILE_PATH", None)
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", OTHER_PROCESS, ip, RATE, str(count)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return answers


def test_the_request_guard_counts_one_ip_across_processes_through_redis(
    user: Any, settings: Any
) -> None:
    settings.INTELLIAUTH_SMS = {**settings.INTELLIAUTH_SMS, "REQUEST_RATE": RATE}
    ip = _ip_far_from_a_window_edge()
    client = APIClient(REMOTE_ADDR=ip)
    client.force_authenticate(user)

    for _ in range(3):
        assert client.get("/api/mfa/sms/factors/").status_code == 200

    # 3 counted here; the other process gets the 4th and 5th, and is refused the 6th.
    assert _guard_in_another_process(ip, 3) == ["allowed", "allowed", "limited"]

    refused = client.get("/api/mfa/sms/factors/")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) > 0
    # Another IP has its own count.
    other = APIClient(REMOTE_ADDR="192.0.2.255")
    other.force_authenticate(user)
    assert other.get("/api/mfa/sms/factors/").status_code == 200
