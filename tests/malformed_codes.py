"""The one table of malformed codes every code-taking endpoint is tried with.

Each entry turns the real code into a typed value that is not 6 ASCII digits after removing
spaces and hyphens: ``invalid_code_format``, never a counted attempt (CONTRACT §3).
"""

from __future__ import annotations

from collections.abc import Callable


def in_script(code: str, zero: str) -> str:
    """``code`` written with the digits of the script whose zero is ``zero``."""
    return "".join(chr(ord(zero) + int(digit)) for digit in code)


MALFORMED_CODES: dict[str, Callable[[str], str]] = {
    "arabic_indic": lambda c: in_script(c, "٠"),
    "extended_arabic_indic": lambda c: in_script(c, "۰"),
    "fullwidth": lambda c: in_script(c, "０"),
    "devanagari": lambda c: in_script(c, "०"),
    "mathematical_bold": lambda c: in_script(c, "\U0001d7ce"),
    "one_fullwidth_digit": lambda c: c[:5] + in_script(c[5], "０"),
    "guide_arabic_indic": lambda c: "١٢٣٤٥٦",
    "guide_fullwidth": lambda c: "１２３４５６",
    "superscript": lambda c: "¹²³⁴⁵⁶",
    "letter": lambda c: c[:5] + "a",
    "letters": lambda c: "abcdef",
    "five_digits": lambda c: c[:5],
    "seven_digits": lambda c: c + "0",
    "tab": lambda c: f"{c[:3]}\t{c[3:]}",
    "newline": lambda c: f"{c}\n",
    "underscore": lambda c: f"{c[:3]}_{c[3:]}",
    "dot": lambda c: f"{c[:3]}.{c[3:]}",
    "plus": lambda c: f"+{c}",
    "unicode_minus": lambda c: f"{c[:3]}\u2212{c[3:]}",
    "en_dash": lambda c: f"{c[:3]}\u2013{c[3:]}",
    "nbsp": lambda c: f"{c[:3]}\u00a0{c[3:]}",
    "zero_width_space": lambda c: f"{c[:3]}\u200b{c[3:]}",
    "nul": lambda c: f"{c}\x00",
    "empty": lambda c: "",
    "spaces_only": lambda c: "      ",
    "sql": lambda c: f"{c}' OR '1'='1",
    "long": lambda c: c + " " * 100,
}
