"""The shipped catalogs translate every message the code marks (issue 12).

``makemessages`` (it needs GNU gettext's ``xgettext``) runs over a copy of the package,
merging what the code marks today into a copy of the shipped ``.po`` files: an entry left
untranslated or fuzzy means a message was added or changed without its translation. The
committed ``.mo`` files must match the ``.po`` files, since the wheel ships the ``.mo``.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

import intelliauth_sms

PACKAGE = Path(intelliauth_sms.__file__).parent
LANGUAGES = ["fr", "es"]
FIELD = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?|msgctxt) (".*")$')

pytestmark = pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msgfmt") is None,
    reason="makemessages and compilemessages need GNU gettext (apt-get install gettext)",
)


def po_entries(path: Path) -> list[dict[str, object]]:
    """The entries of a ``.po`` file: their fields (unescaped) and whether fuzzy/obsolete."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        current = ""
        lines = block.strip().splitlines()
        for line in lines:
            match = FIELD.match(line)
            if match:
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if "msgid" in fields and fields["msgid"]:  # the header has an empty msgid
            flags = " ".join(line for line in lines if line.startswith("#,"))
            obsolete = any(line.startswith("#~") for line in lines)
            entries.append({**fields, "fuzzy": "fuzzy" in flags, "obsolete": obsolete})
    return entries


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package whose catalogs ``makemessages`` refreshed from the code."""
    copy = tmp_path_factory.mktemp("catalogs") / "intelliauth_sms"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(copy)
        call_command("makemessages", locale=LANGUAGES, no_location=True, verbosity=0)
    return copy


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_message_is_translated(regenerated: Path, language: str) -> None:
    entries = po_entries(regenerated / f"locale/{language}/LC_MESSAGES/django.po")
    current = [entry for entry in entries if not entry["obsolete"]]

    untranslated = [
        entry["msgid"]
        for entry in current
        if entry["fuzzy"] or not all(v for k, v in entry.items() if str(k).startswith("msgstr"))
    ]
    assert untranslated == [], f"{language}: untranslated or fuzzy: {untranslated}"
    assert len(current) > 400  # the extraction really ran over the package


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shipped_catalog_has_no_stale_entries(language: str) -> None:
    entries = po_entries(PACKAGE / f"locale/{language}/LC_MESSAGES/django.po")

    assert [entry["msgid"] for entry in entries if entry["obsolete"] or entry["fuzzy"]] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_mo_matches_the_po(tmp_path: Path, language: str) -> None:
    folder = PACKAGE / f"locale/{language}/LC_MESSAGES"
    fresh = tmp_path / "django.mo"
    subprocess.run(  # noqa: S603 - gettext's msgfmt, fixed arguments
        ["msgfmt", "--check", "-o", str(fresh), str(folder / "django.po")],  # noqa: S607
        check=True,
    )

    with (folder / "django.mo").open("rb") as shipped, fresh.open("rb") as compiled:
        assert gettext.GNUTranslations(shipped)._catalog == (  # type: ignore[attr-defined]
            gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        ), f"recompile {language}: django-admin compilemessages (in intelliauth_sms/)"
