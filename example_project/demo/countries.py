"""The country picker of the demo's phone field, from libphonenumber's own data."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers.geodata.locale import LOCALE_DATA

# Regions libphonenumber supports without an English name in its locale data.
_FALLBACK_NAMES = {"AC": "Ascension Island", "TA": "Tristan da Cunha", "XK": "Kosovo"}

DEFAULT_COUNTRY = "US"


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2, what the normalise endpoint takes
    name: str
    calling_code: int
    example: str  # an example mobile number in national format, for the placeholder

    @property
    def label(self) -> str:
        return f"{self.name} (+{self.calling_code})"


def _english_name(region: str) -> str:
    names = LOCALE_DATA.get(region, {})
    name = names.get("en", "")
    if name.startswith("*"):  # "*xx": the name is held under language "xx"
        name = names.get(name[1:], "")
    return name or _FALLBACK_NAMES.get(region, region)


@functools.cache
def countries() -> tuple[Country, ...]:
    """Every region libphonenumber knows, by English name."""
    found = []
    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        found.append(
            Country(
                code=region,
                name=_english_name(region),
                calling_code=phonenumbers.country_code_for_region(region),
                example=(
                    phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
                    if example is not None
                    else ""
                ),
            )
        )
    return tuple(sorted(found, key=lambda country: _sort_key(country.name)))


def _sort_key(name: str) -> str:
    """Sort "Åland Islands" next to "Albania", not after "Zimbabwe"."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
