"""Groups of audit event types and failure codes that the console filters and counts by."""

from __future__ import annotations

from intelliauth_sms.exceptions import SmsError
from intelliauth_sms.models import EventType


def _error_codes() -> list[str]:
    """Every stable error code of the contract (``SmsError`` subclasses), sorted."""
    seen: set[str] = set()
    pending: list[type[SmsError]] = [SmsError]
    while pending:
        cls = pending.pop()
        seen.add(cls.code)
        pending.extend(cls.__subclasses__())
    return sorted(seen)


# The failure codes an audit event can carry: the contract's error codes. A fixed list, so
# the admin's filter needs no ``SELECT DISTINCT`` over the whole audit table.
FAILURE_CODES: list[str] = _error_codes()

# Send refusals, as opposed to failed code checks.
REFUSAL_EVENTS = (EventType.SMS_REFUSED, EventType.ENROLMENT_REFUSED, EventType.FLOW_STEP_REFUSED)
