"""Forms of the console: the tenant policy and country rules (with the product guide's help
text and validation that refuses nonsense), and the reason asked before a reveal or unlock."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from intelliauth_sms.models import CountryRule, TenantPolicy
from intelliauth_sms.models.policy_limits import POLICY_LIMITS
from intelliauth_sms.services.number_screening import looks_like_phone_number

# Regions libphonenumber can send to: every ISO 3166-1 alpha-2 code it knows ("001" is its
# code for non-geographic numbers, not a country).
KNOWN_COUNTRIES = frozenset(
    region
    for regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.values()
    for region in regions
    if region != phonenumbers.UNKNOWN_REGION and region.isalpha()
)
# Codes people type that are not ISO 3166-1, and what they meant.
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}

# The product guide's words for each setting ("SMS fallback", CONTRACT §2).
POLICY_HELP = {
    "enrolment_sms_per_hour": _(
        "Per-user enrolment rate: a user can request at most this many enrolment SMS "
        "messages in any rolling hour. Default 5."
    ),
    "auth_sms_per_hour": _(
        "Per-user authentication rate: at most this many codes per hour for the same "
        "sign-in flow. Default 3."
    ),
    "user_auth_sms_per_hour": _(
        "Per-user sign-in rate across flows: at most this many sign-in and recovery codes "
        "to one user in any rolling hour, however many flows are started (stops SMS "
        "bombing of one account). Default 10."
    ),
    "destination_sms_per_hour": _(
        "Per-number rate: at most this many codes to one phone number in any rolling hour, "
        "across every user and tenant. Default 10."
    ),
    "pumping_protection": _(
        "SMS-pumping breaker: when a number prefix (its first 7 digits) has had 30 sends "
        "in an hour and fewer than 20 % of those codes were typed back, Enforce pauses "
        "sends to it for 60 minutes; Monitor only records the trip. Legitimate traffic "
        "verifies its codes and never trips it. Default Enforce."
    ),
    "ip_sms_per_hour": _(
        "Per-IP rate: the same caller cannot trigger more than this many sends per hour "
        "across all users. Defends against attackers walking phone numbers. Default 20."
    ),
    "max_failed_attempts": _(
        "Failed-code lockout: entering the wrong code this many times in a row burns the "
        "current code and triggers a brief lockout. Default 5 attempts."
    ),
    "lockout_minutes": _("How long that lockout lasts, in minutes. Default 15 minutes."),
    "disable_after_failures": _(
        "Consecutive wrong codes, across lockouts, after which SMS is disabled for the user "
        "until support unlocks them. At most 100 (NIST SP 800-63B). Default 20."
    ),
    "code_ttl_seconds": _(
        "How long a code works, from 30 seconds to 10 minutes (600, NIST SP 800-63B-4). "
        'Users are told "Codes expire after 5 minutes" with the default of 300 seconds; the '
        "message "
        "follows this setting."
    ),
    "daily_high_cost_cap": _(
        "Cost cap: block sends to high-cost destinations once this much has been spent on "
        "them in the UTC day. Empty: no cap."
    ),
    "allow_sms_recovery": _(
        "Let users who lost their primary MFA recover with an SMS to a verified backup "
        "phone. A sensitive flow: users re-prove their identity first and are emailed when "
        "a recovery SMS is sent; recovery events stand out in the audit trail."
    ),
    "recovery_requires_security_answers": _(
        "Before a recovery SMS, require the security answers as well as the password."
    ),
}

COUNTRY_RULE_HELP = {
    "country": _(
        "ISO 3166-1 alpha-2 code, e.g. GB, US, DE. A number's country is its region in "
        "the numbering plan: +44 numbers of Guernsey, Jersey and the Isle of Man are GG, "
        "JE and IM, not GB."
    ),
    "action": _(
        "Allow: only allow-listed countries receive SMS (one allow rule switches the tenant "
        "to allow-list mode). Block: refuse this country. Price only: just the cost."
    ),
    "unit_cost": _("Price of one SMS to this country."),
    "high_cost": _("Sends here count toward the daily high-cost cap."),
}


def _set_range(field: forms.Field, minimum: Any, maximum: Any, message: Any) -> None:
    """Give a number field one range with one message, in place of the generic bounds
    (which, for a negative number, said both "at least 0" and "at least 1")."""
    kept = [v for v in field.validators if not isinstance(v, MinValueValidator | MaxValueValidator)]
    bounds: list[Any] = [MinValueValidator(minimum, message=message)]
    if maximum is not None:
        bounds.append(MaxValueValidator(maximum, message=message))
    field.validators = [*bounds, *kept]
    field.widget.attrs["min"] = minimum
    if maximum is not None:
        field.widget.attrs["max"] = maximum


class TenantPolicyForm(forms.ModelForm):
    class Meta:
        model = TenantPolicy
        fields = [
            "enrolment_sms_per_hour",
            "auth_sms_per_hour",
            "ip_sms_per_hour",
            "user_auth_sms_per_hour",
            "destination_sms_per_hour",
            "pumping_protection",
            "max_failed_attempts",
            "lockout_minutes",
            "disable_after_failures",
            "code_ttl_seconds",
            "daily_high_cost_cap",
            "allow_sms_recovery",
            "recovery_requires_security_answers",
        ]
        help_texts = POLICY_HELP

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, limit in POLICY_LIMITS.items():
            _set_range(self.fields[name], limit.minimum, limit.maximum, limit.message)
        _set_range(
            self.fields["daily_high_cost_cap"],
            0,
            None,
            _("A cap cannot be negative. Leave it empty for no cap."),
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        attempts = cleaned.get("max_failed_attempts")
        disable = cleaned.get("disable_after_failures")
        if attempts is not None and disable is not None and disable < attempts:
            self.add_error(
                "disable_after_failures",
                _(
                    "Must be at least the wrong codes before lockout (%(attempts)d): SMS "
                    "would be disabled before the first lockout."
                )
                % {"attempts": attempts},
            )
        return cleaned


def clean_country_code(value: str) -> str:
    """An upper-case ISO 3166-1 alpha-2 code libphonenumber knows, or ``ValidationError``."""
    code = (value or "").strip().upper()
    if code in COUNTRY_ALIASES:
        raise ValidationError(
            _("“%(code)s” is not an ISO 3166-1 code: use %(iso)s."),
            code="country_alias",
            params={"code": code, "iso": COUNTRY_ALIASES[code]},
        )
    if code not in KNOWN_COUNTRIES:
        raise ValidationError(
            _("“%(code)s” is not a country code. Use an ISO 3166-1 alpha-2 code such as GB."),
            code="unknown_country",
            params={"code": code},
        )
    return code


class CountryRuleForm(forms.ModelForm):
    class Meta:
        model = CountryRule
        fields = ["country", "action", "unit_cost", "high_cost"]
        help_texts = COUNTRY_RULE_HELP
        widgets = {"country": forms.TextInput(attrs={"size": 3, "autocomplete": "off"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_range(self.fields["unit_cost"], 0, None, _("A price cannot be negative."))

    def clean_country(self) -> str:
        return clean_country_code(self.cleaned_data.get("country", ""))


class CountryRuleFormSet(BaseInlineFormSet):
    """One rule per country, and never an allow rule and a block rule for the same one."""

    def clean(self) -> None:
        actions: dict[str, list[str]] = defaultdict(list)
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            country = form.cleaned_data.get("country")
            if country:
                actions[country].append(form.cleaned_data.get("action", ""))
        errors = []
        for country, found in sorted(actions.items()):
            if CountryRule.Action.ALLOW in found and CountryRule.Action.BLOCK in found:
                errors.append(
                    ValidationError(
                        _(
                            "%(country)s has both an allow rule and a block rule. A country "
                            "is either allowed or blocked: keep one of them."
                        ),
                        code="allow_and_block",
                        params={"country": country},
                    )
                )
            elif len(found) > 1:
                errors.append(
                    ValidationError(
                        _("%(country)s has more than one rule: keep one rule per country."),
                        code="duplicate_country",
                        params={"country": country},
                    )
                )
        if errors:
            raise ValidationError(errors)
        super().clean()


class ReasonForm(forms.Form):
    """Why support staff reveal a number or unlock a user; kept in the audit trail."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_(
            "Recorded in the audit trail with your name and the time, e.g. the ticket "
            "number and how you verified the caller."
        ),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give a reason."), code="required")
        if looks_like_phone_number(reason):
            raise ValidationError(
                _(
                    "Leave phone numbers out of the reason: it is kept in the audit trail, "
                    "which holds at most the last 4 digits of a number."
                ),
                code="phone_number_in_reason",
            )
        return reason
