"""What the scale tier's Celery workers load besides the app (``CELERY_IMPORTS`` in
``tests.scale.settings``): each delivery task reports to the fake Twilio server before it
runs.

The report comes from the pool process, after the worker received the task and before the
task claims its message (``services.delivery``), and names the message, the task and the
Celery node. The server answers it at once, or holds its answer when a test asked it to
(``FakeTwilio.hold_before_claim``): the task then waits there, received and not yet
claimed, while the test kills its worker. Nothing else about the workers changes.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen

from celery.signals import task_prerun

from intelliauth_sms.services.dispatch import DELIVER_SMS

#: Where on the fake Twilio server the tasks report (no Twilio path looks like it).
CLAIM_REPORT_PATH = "/scale/before-claim"
#: Longer than the server ever holds a report (``WAIT_TIMEOUT`` in the tier's conftest).
REPORT_TIMEOUT = 60.0


@task_prerun.connect
def report_before_claim(
    sender: Any = None, task_id: str = "", task: Any = None, args: Any = (), **_: Any
) -> None:
    """Report a delivery task about to run to the fake Twilio server, and wait for its
    answer (at once, unless a test holds it)."""
    base_url = os.environ.get("SCALE_TWILIO_URL", "")
    if task is None or task.name != DELIVER_SMS or not base_url.startswith("http://127.0.0.1:"):
        return
    report = urlencode({"message": args[0], "task": task_id, "node": task.request.hostname})
    # The tier's own server on 127.0.0.1 (checked above), never a file: URL or another scheme.
    url = base_url + CLAIM_REPORT_PATH
    with urlopen(url, data=report.encode(), timeout=REPORT_TIMEOUT) as answer:  # noqa: S310
        answer.read()
