"""schemathesis fuzzes every operation of the example site's schema, signed in as alice.

For each operation, hypothesis generates requests from the schema: valid ones (positive)
and ones that break it (negative: wrong types, missing fields, bad ids). Each must get an
answer that is not a server error and that the schema documents: its status, content
type, headers and body. Generated ids almost never exist, so the operations with ids in
their path run a second time on ids that do (alice's factor, enrolment, flow and
recovery), which reaches the code checks, the lockout and the sending gate. Every
operation runs even when an earlier one fails; the test then reports them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from intelliauth_sms.api.openapi import OPERATIONS
from tests.openapi.conftest import CHECKS, Browser

pytestmark = pytest.mark.openapi
#: Examples per operation and mode: enough to reach each refusal, and the tier stays short.
MAX_EXAMPLES = 40


def fuzz(
    operation: Any, mode: GenerationMode, browser: Browser, ids: dict[str, str] | None
) -> None:
    """Run hypothesis over one operation; raise the (shrunk) first failure."""
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=ids)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        case.call_and_validate(cookies=browser.cookies, headers=browser.headers, checks=CHECKS)

    check()


def path_parameters(operation: Any) -> list[str]:
    return [p.name for p in operation.path_parameters]


@pytest.mark.parametrize("ids", ["generated-ids", "existing-ids"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(
    api_schema: Any,
    browser: Browser,
    fresh_ids: Callable[[], dict[str, str]],
    mode: GenerationMode,
    ids: str,
) -> None:
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == len(OPERATIONS), [op.label for op in operations]
    for operation in operations:
        names = path_parameters(operation)
        if ids == "existing-ids" and not names:
            continue  # the same as with generated ids
        chosen = None
        if ids == "existing-ids":
            existing = fresh_ids()
            chosen = {name: existing[name] for name in names}
        try:
            fuzz(operation, mode, browser, chosen)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported below
            failures[operation.label] = f"{type(exc).__name__}: {exc}"
    assert not failures, "\n\n".join(f"== {label}\n{why}" for label, why in failures.items())
