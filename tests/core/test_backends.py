"""The development backends and how the configured backend is chosen."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from intelliauth_sms.backends import OutgoingSms, console, filebased, get_backend, locmem
from intelliauth_sms.backends.base import BaseSmsBackend

SMS = OutgoingSms(to="+14155550100", body="Your verification code is 123456.", message_id="m-1")


def test_console_backend_prints_the_masked_number_and_the_body_to_its_stream() -> None:
    stream = io.StringIO()

    assert console.SmsBackend(stream=stream).send(SMS) == ""

    printed = stream.getvalue()
    assert "•••• 0100" in printed
    assert SMS.body in printed
    for leaked in ("+14155550100", "4155550100", "415555"):
        assert leaked not in printed


def test_console_backend_prints_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    console.SmsBackend().send(SMS)

    out = capsys.readouterr().out
    assert "•••• 0100" in out and SMS.body in out and "+14155550100" not in out


def test_locmem_backend_appends_each_message_to_the_outbox(outbox: list[Any]) -> None:
    backend = locmem.SmsBackend()
    second = OutgoingSms(to="+447400123456", body="second")

    assert backend.send(SMS) == "locmem-1"
    assert backend.send(second) == "locmem-2"

    assert outbox is locmem.outbox
    assert [(m.to, m.body) for m in outbox] == [(SMS.to, SMS.body), (second.to, second.body)]


def test_filebased_backend_writes_one_json_file_per_message(tmp_path: Path) -> None:
    with override_settings(INTELLIAUTH_SMS={"SMS_FILE_PATH": str(tmp_path / "out")}):
        backend = filebased.SmsBackend()
    backend.send(SMS)
    backend.send(OutgoingSms(to="+447400123456", body="second", message_id="m-2"))
    backend.send(OutgoingSms(to="+4915123456789", body="third"))  # no id: a fresh name

    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 3
    assert all(f.suffix == ".json" and not f.name.startswith(".") for f in files)
    contents = [json.loads(f.read_text()) for f in files]
    assert {"to": SMS.to, "body": SMS.body} in contents
    assert {"to": "+447400123456", "body": "second"} in contents
    assert json.loads((tmp_path / "out" / "m-1.json").read_text())["body"] == SMS.body


def test_filebased_backend_without_a_file_path_is_improperly_configured(
    settings: Any,
) -> None:
    settings.INTELLIAUTH_SMS = {"SMS_BACKEND": "intelliauth_sms.backends.filebased.SmsBackend"}

    with pytest.raises(ImproperlyConfigured, match="SMS_FILE_PATH"):
        get_backend()


def test_filebased_backend_accepts_an_explicit_path(tmp_path: Path) -> None:
    backend = get_backend("intelliauth_sms.backends.filebased.SmsBackend", file_path=str(tmp_path))
    backend.send(SMS)
    assert [f.name for f in tmp_path.iterdir()] == ["m-1.json"]


def test_get_backend_uses_the_configured_backend() -> None:
    assert isinstance(get_backend(), locmem.SmsBackend)  # tests.settings


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("intelliauth_sms.backends.console.SmsBackend", console.SmsBackend),
        ("intelliauth_sms.backends.locmem.SmsBackend", locmem.SmsBackend),
    ],
)
def test_get_backend_honours_override_settings(path: str, expected: type) -> None:
    with override_settings(INTELLIAUTH_SMS={"SMS_BACKEND": path}):
        assert type(get_backend()) is expected


def test_get_backend_honours_override_settings_for_the_filebased_backend(tmp_path: Path) -> None:
    config = {
        "SMS_BACKEND": "intelliauth_sms.backends.filebased.SmsBackend",
        "SMS_FILE_PATH": str(tmp_path),
    }
    with override_settings(INTELLIAUTH_SMS=config):
        backend = get_backend()
    assert isinstance(backend, filebased.SmsBackend) and backend.directory == tmp_path


def test_without_configuration_the_console_backend_is_the_default(settings: Any) -> None:
    del settings.INTELLIAUTH_SMS
    assert type(get_backend()) is console.SmsBackend


def test_the_base_backend_must_be_subclassed() -> None:
    with pytest.raises(NotImplementedError):
        BaseSmsBackend().send(SMS)


@pytest.mark.django_db
def test_a_code_is_delivered_through_the_filebased_backend_end_to_end(
    tmp_path: Path, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from intelliauth_sms.services import enrolment

    config = {
        "SMS_BACKEND": "intelliauth_sms.backends.filebased.SmsBackend",
        "SMS_FILE_PATH": str(tmp_path),
    }
    with (
        override_settings(INTELLIAUTH_SMS=config),
        django_capture_on_commit_callbacks(execute=True),
    ):
        _pending, issued = enrolment.start_enrolment(user, "+14155550100")

    (written,) = tmp_path.iterdir()
    assert written.name == f"{issued.message.pk}.json"
    assert json.loads(written.read_text())["to"] == "+14155550100"
