"""Fixtures of the sign-in step tests: an enrolled user, a flow, the policy, a clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest
from django.test import RequestFactory

from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import AuthFlow, SmsFactor, Tenant, TenantPolicy
from tests.factories import SmsFactorFactory
from tests.flows import PHONE

#: A fixed moment for tests that move the clock (a Tuesday, 10:00 UTC).
START = datetime(2030, 1, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def factor(user: Any) -> SmsFactor:
    """``user`` (alice) has one sign-in (``mfa``) phone, ``PHONE``."""
    return SmsFactorFactory(user=user, phone=PHONE)  # type: ignore[no-any-return]


@pytest.fixture
def flow(factor: SmsFactor) -> AuthFlow:
    """A flow of ``factor``'s user, started without a request (not bound to a session)."""
    return start_flow(factor.user)


@pytest.fixture
def policy(db: Any) -> TenantPolicy:
    """The default tenant's policy (the contract's defaults until a test changes it)."""
    return TenantPolicy.objects.get(tenant=Tenant.objects.get(slug="default"))


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Frozen time starting at ``START``; move it with ``clock.shift`` / ``clock.move_to``."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def session_request(path: str = "/login/", **meta: Any) -> HttpRequest:
    """A request with a fresh, saved database session, as a site's login view receives it."""
    request = RequestFactory().post(path, **meta)
    session = SessionStore()
    session.create()
    request.session = session
    return request


def same_session(request: HttpRequest, path: str = "/login/sms/finish/") -> HttpRequest:
    """A later request of the same browser: the session is loaded again from its key."""
    request.session.save()
    later = RequestFactory().post(path)
    later.session = SessionStore(session_key=request.session.session_key)
    return later
