"""Phone numbers: strict E.164 parsing, the number types codes may go to, and masking."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from intelliauth_sms.exceptions import InvalidPhoneNumber

# "+", a country code that does not start with 0, at most 15 digits in all (ITU-T E.164).
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")

# Types an SMS code may be sent to. Premium-rate, shared-cost, toll-free, VoIP, pagers,
# UAN and voicemail numbers are refused (SECURITY.md 8). ``FIXED_LINE_OR_MOBILE`` covers
# the North American plan, where libphonenumber cannot tell the two apart.
SMS_CAPABLE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


@dataclass(frozen=True)
class PhoneNumber:
    """A validated destination: the E.164 string and its ISO 3166-1 region."""

    e164: str
    country: str

    @property
    def last4(self) -> str:
        return self.e164[-4:]

    @property
    def masked(self) -> str:
        return mask_last4(self.last4)


def mask_last4(last4: str) -> str:
    """The displayed form of a number: bullets and its last 4 digits, nothing else."""
    return f"•••• {last4}"


def parse_e164(raw: object) -> PhoneNumber:
    """Validate ``raw`` as an SMS-capable E.164 number or raise ``InvalidPhoneNumber``.

    Only the exact E.164 form is accepted: no spaces, dashes, brackets or missing ``+``
    (``re.fullmatch`` with ``[0-9]`` so non-ASCII digits fail too).
    """
    if not isinstance(raw, str) or not _E164.fullmatch(raw):
        raise InvalidPhoneNumber()
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber() from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber()
    if phonenumbers.number_type(parsed) not in SMS_CAPABLE_TYPES:
        raise InvalidPhoneNumber()
    # Re-format so the stored form is canonical even if libphonenumber normalised it.
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if e164 != raw:
        raise InvalidPhoneNumber()
    region = phonenumbers.region_code_for_number(parsed)
    # Non-geographic ranges (+870 Inmarsat, +881 satellite, +882/+883 international
    # networks…) have region "001": no country to price, allow or block them by, and no
    # place in a two-letter country column. CONTRACT §2 refuses them.
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidPhoneNumber()
    return PhoneNumber(e164=e164, country=region)


# What a person may type besides ASCII digits: whitespace, a leading "+", and the usual
# separators (hyphens and dashes, dots, slashes, brackets). Letters (vanity numbers,
# "ext."), non-ASCII digits and anything else are refused rather than guessed at.
_TYPED_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212./()]+")
_TYPED_NUMBER = re.compile(r"\+?[0-9]+")
_MAX_TYPED_LENGTH = 64


def normalise_national(country: object, number: object) -> PhoneNumber:
    """Turn a number as a person typed it, with the country they picked, into E.164.

    ``country`` is an ISO 3166-1 alpha-2 code (any case); ``number`` is in that country's
    national format (``"07911 123456"``) or international format (``"+44 7911-123456"``,
    where the ``+`` wins over ``country``). The result goes through ``parse_e164``, so the
    same validity and SMS-capable type rules apply as for the strict API; any problem
    raises ``InvalidPhoneNumber``.
    """
    from django.utils.translation import gettext as _

    message = _("Enter a mobile number that is valid for the country you chose.")
    if not isinstance(country, str) or not isinstance(number, str):
        raise InvalidPhoneNumber(message)
    region = country.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS or len(number) > _MAX_TYPED_LENGTH:
        raise InvalidPhoneNumber(message)
    compact = _TYPED_SEPARATORS.sub("", number)
    if not _TYPED_NUMBER.fullmatch(compact):
        raise InvalidPhoneNumber(message)
    try:
        parsed = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(message) from exc
    try:
        return parse_e164(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    except InvalidPhoneNumber as exc:
        raise InvalidPhoneNumber(message) from exc
