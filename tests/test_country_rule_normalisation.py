"""Country rules match libphonenumber's upper-case regions whatever case they were typed in."""

from __future__ import annotations

from typing import Any

import pytest

from intelliauth_sms.exceptions import CountryNotAllowed
from intelliauth_sms.models import CountryRule, SmsMessage, Tenant
from intelliauth_sms.services.enrolment import start_enrolment
from tests.factories import CountryRuleFactory


def test_a_block_rule_typed_in_lower_case_still_blocks_its_country(user: Any) -> None:
    rule = CountryRuleFactory(
        tenant=Tenant.objects.get(slug="default"), country=" us ", action=CountryRule.Action.BLOCK
    )
    assert rule.country == "US"

    with pytest.raises(CountryNotAllowed):
        start_enrolment(user, "+14155550100")
    assert SmsMessage.objects.count() == 0
