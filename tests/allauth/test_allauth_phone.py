"""Real django-allauth views signing up and in by phone, codes sent through the app.

Run with ``make test-allauth`` (settings ``tests.allauth_site.settings``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

pytestmark = [pytest.mark.allauth, pytest.mark.django_db(transaction=False)]

PHONE = "+447400123456"
US_PHONE = "+14155550123"
# allauth's default code format: two groups of four capitals and digits.
ALLAUTH_CODE = re.compile(r"\bcode is ([0-9A-Z]{4}-[0-9A-Z]{4})\.")


@pytest.fixture
def web(django_capture_on_commit_callbacks: Any) -> Client:
    """A test client whose requests run their on-commit callbacks (the delivery task)."""

    class CommittingWebClient(Client):
        def request(self, **request: Any) -> Any:  # type: ignore[override]
            with django_capture_on_commit_callbacks(execute=True):
                return super().request(**request)

    return CommittingWebClient()


def code_in(sms: Any) -> str:
    match = ALLAUTH_CODE.search(sms.body)
    assert match, f"no allauth code in {sms.body!r}"
    return match.group(1)


def sign_up(web: Client, phone: str) -> Any:
    return web.post("/accounts/signup/", {"phone": phone})


def default_tenant() -> Any:
    from intelliauth_sms.tenancy import default_tenant as tenant

    return tenant()


def test_signup_by_phone_sends_allauths_code_and_verifying_it_signs_in(
    web: Client, outbox: list[Any]
) -> None:
    from intelliauth_sms.models import (
        AuditEvent,
        CodePurpose,
        CodeState,
        MessageStatus,
        SmsCode,
        SmsMessage,
    )
    from tests.allauth_site.models import SitePhone

    response = sign_up(web, PHONE)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/phone/verify/"
    assert len(outbox) == 1
    assert outbox[0].to == PHONE
    code = code_in(outbox[0])
    assert "It expires in 15 minutes" in outbox[0].body  # allauth's phone timeout

    message = SmsMessage.objects.get()
    assert message.purpose == CodePurpose.ALLAUTH
    assert message.status == MessageStatus.SENT
    assert message.phone_last4 == "3456"
    assert message.country == "GB"
    sent = AuditEvent.objects.get(event_type="sms_sent")
    assert (sent.purpose, sent.phone_last4) == (CodePurpose.ALLAUTH, "3456")

    response = web.post("/accounts/phone/verify/", {"code": code})
    assert response.status_code == 302
    assert "_auth_user_id" in web.session
    assert SitePhone.objects.get().verified
    # The typed-back code counts as a converted send for the pumping breaker.
    assert SmsCode.objects.get().state == CodeState.USED


def test_a_wrong_code_is_refused_by_allauth(web: Client, outbox: list[Any]) -> None:
    sign_up(web, PHONE)
    code = code_in(outbox[0])
    wrong = "000000" if code != "000000" else "111111"
    response = web.post("/accounts/phone/verify/", {"code": wrong})
    assert response.status_code == 200
    assert "_auth_user_id" not in web.session


def test_login_by_phone_sends_a_login_code_that_signs_in(web: Client, outbox: list[Any]) -> None:
    from intelliauth_sms.models import CodeState, SmsCode

    sign_up(web, PHONE)
    web.post("/accounts/phone/verify/", {"code": code_in(outbox[0])})
    web.logout()
    outbox.clear()

    response = web.post("/accounts/login/", {"login": PHONE})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/code/confirm/"
    assert len(outbox) == 1
    assert "It expires in 3 minutes" in outbox[0].body  # allauth's login-code timeout
    response = web.post("/accounts/login/code/confirm/", {"code": code_in(outbox[0])})
    assert response.status_code == 302
    assert "_auth_user_id" in web.session
    # allauth marks the number verified on a login code too: both codes count as typed back.
    assert list(SmsCode.objects.values_list("state", flat=True)) == [CodeState.USED] * 2


def test_a_blocked_country_is_refused_with_no_sms_and_an_audit_event(
    web: Client, outbox: list[Any]
) -> None:
    from intelliauth_sms.models import AuditEvent, CountryRule, SmsCode, SmsMessage

    CountryRule.objects.create(
        tenant=default_tenant(), country="GB", action=CountryRule.Action.BLOCK
    )
    response = sign_up(web, PHONE)
    assert response.status_code == 403
    assert "We can&#x27;t send codes to phone numbers in this country." in response.text
    assert outbox == []
    assert not SmsMessage.objects.exists()
    assert not SmsCode.objects.exists()
    refused = AuditEvent.objects.get(event_type="sms_refused")
    assert refused.failure_code == "country_not_allowed"
    assert refused.phone_last4 == "3456"
    assert refused.detail == {"country": "GB"}


def test_the_daily_cost_cap_refuses(web: Client, outbox: list[Any]) -> None:
    from intelliauth_sms.models import AuditEvent, CountryRule, SmsMessage, TenantPolicy

    tenant = default_tenant()
    CountryRule.objects.create(
        tenant=tenant, country="GB", unit_cost=Decimal("0.50"), high_cost=True
    )
    TenantPolicy.objects.update_or_create(
        tenant=tenant, defaults={"daily_high_cost_cap": Decimal("0.40")}
    )
    response = sign_up(web, PHONE)
    assert response.status_code == 403
    assert "Try again tomorrow." in response.text
    assert outbox == []
    assert not SmsMessage.objects.exists()
    assert AuditEvent.objects.get(event_type="sms_refused").failure_code == "cost_cap_reached"


def test_an_open_pumping_breaker_refuses(web: Client, outbox: list[Any]) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from intelliauth_sms.models import AuditEvent, PrefixBreaker, SmsMessage
    from intelliauth_sms.services.pumping import prefix_hash

    PrefixBreaker.objects.create(
        tenant=default_tenant(),
        prefix_hash=prefix_hash(PHONE),
        paused_until=timezone.now() + timedelta(minutes=30),
    )
    response = sign_up(web, PHONE)
    assert response.status_code == 403
    assert "We can&#x27;t send codes to this number right now." in response.text
    assert outbox == []
    assert not SmsMessage.objects.exists()
    assert AuditEvent.objects.get(event_type="sms_refused").failure_code == "destination_paused"


def test_the_per_number_cap_holds_across_allauth_users(web: Client, outbox: list[Any]) -> None:
    from intelliauth_sms.models import AuditEvent, TenantPolicy

    TenantPolicy.objects.update_or_create(
        tenant=default_tenant(), defaults={"destination_sms_per_hour": 1}
    )
    assert sign_up(web, US_PHONE).status_code == 302
    web.logout()
    # A second account for the same number: allauth would SMS it again, the cap refuses.
    second = Client()
    response = second.post("/accounts/login/", {"login": US_PHONE})
    assert response.status_code == 429
    assert response["Retry-After"]
    assert len(outbox) == 1
    assert AuditEvent.objects.get(event_type="sms_refused").failure_code == "rate_limited"


def test_no_plaintext_number_or_code_in_the_database(web: Client, outbox: list[Any]) -> None:
    sign_up(web, PHONE)
    code = code_in(outbox[0])
    web.post("/accounts/phone/verify/", {"code": code})
    digits = PHONE.lstrip("+")
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from Django
            for row in cursor.fetchall():
                text = " ".join(str(value) for value in row)
                assert digits not in text, f"plaintext number in {table}"
                assert code not in text, f"plaintext code in {table}"
