"""Build the wheel and check what it ships: py.typed, templates, static files, migrations,
the compiled French and Spanish translations and the metadata fields (issue 12, packaging)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REQUIRED = [
    "intelliauth_sms/py.typed",
    "intelliauth_sms/templates/intelliauth_sms/signin/login.html",
    "intelliauth_sms/templates/intelliauth_sms/email/recovery_requested.html",
    "intelliauth_sms/static/intelliauth_sms/intelliauth-sms.js",
    "intelliauth_sms/migrations/0001_initial.py",
    # The compiled translations (issue 12): a site cannot compile them from a wheel.
    "intelliauth_sms/locale/fr/LC_MESSAGES/django.mo",
    "intelliauth_sms/locale/es/LC_MESSAGES/django.mo",
]
METADATA = [
    "License-Expression: BSD-3-Clause",
    "Description-Content-Type: text/markdown",
    "Classifier: Framework :: Django :: 6.1",
    "Classifier: Programming Language :: Python :: 3.14",
    "Classifier: Typing :: Typed",
]

with tempfile.TemporaryDirectory() as out:
    subprocess.run(  # noqa: S603 - this interpreter's pip, fixed arguments
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, "."], check=True
    )
    [wheel] = Path(out).glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(archive.read(n).decode() for n in names if n.endswith("/METADATA"))
missing = [n for n in REQUIRED if n not in names] + [m for m in METADATA if m not in metadata]
if missing:
    sys.exit(f"the wheel lacks: {missing}")
print(
    f"wheel {wheel.name}: {len(names)} files, py.typed, templates, static, migrations, "
    "translations (fr, es), metadata ok"
)
