"""Spotting phone numbers in free text the way a person reading it would, to refuse or
mask them (support's reasons, audit details)."""

from __future__ import annotations

import re
import unicodedata

from django.utils.html import strip_tags

from intelliauth_sms.phone import mask_last4

_SEPARATORS = r"\s\-\u2010-\u2015\u2212./()\[\]_*,:;~'\"`"
_PHONE_LIKE = re.compile(rf"\+?\d(?:[{_SEPARATORS}]*\d){{6,}}")
# Letters that stand in for digits, read as digits only inside a word that has a digit.
_LOOKALIKES = str.maketrans("OoIli|ZzSsB", "00111122558")
_WORD = re.compile(r"[0-9A-Za-z|]+")


def _digits_read_as_ascii(text: str) -> str:
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)


def _lookalikes_in_numbers(word: re.Match[str]) -> str:
    found = word.group(0)
    return found.translate(_LOOKALIKES) if any(c.isdigit() for c in found) else found


def read_as_a_person_would(text: str) -> str:
    """``text`` as it reads on screen: tags dropped, invisible characters removed, every
    script's digits as ASCII digits, and look-alike letters inside numbers as digits."""
    visible = unicodedata.normalize("NFKC", strip_tags(text))
    visible = "".join(c for c in visible if unicodedata.category(c) != "Cf")
    return _WORD.sub(_lookalikes_in_numbers, _digits_read_as_ascii(visible))


def looks_like_phone_number(text: str) -> bool:
    """Whether ``text`` holds something a person could read as a full phone number."""
    return bool(_PHONE_LIKE.search(read_as_a_person_would(text)))


def mask_numbers(text: str) -> str:
    """``text`` with every phone-like run masked down to its last 4 digits.

    Text with nothing phone-like comes back unchanged; otherwise the masked text is the
    normalised reading (``read_as_a_person_would``), so no disguised number survives.
    """

    def mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return mask_last4(digits[-4:])

    readable = read_as_a_person_would(text)
    if not _PHONE_LIKE.search(readable):
        return text
    return _PHONE_LIKE.sub(mask, readable)
