"""``dumpdata`` holds ciphertext, and ``loaddata`` of that dump restores working factors."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command

from intelliauth_sms.crypto import phone_hash
from intelliauth_sms.flows import start_flow
from intelliauth_sms.models import AuthFlow, PendingEnrolment, SmsFactor
from intelliauth_sms.phone import parse_e164
from tests.factories import SmsFactorFactory

PHONE = "+14155550100"
PENDING = "+447400123456"
MODELS = ["intelliauth_sms.smsfactor", "intelliauth_sms.pendingenrolment"]


def test_a_dump_holds_no_number_and_loading_it_restores_working_factors(
    user: Any, tmp_path: Path, anon_api: Any, outbox: list[Any]
) -> None:
    factor = SmsFactorFactory(user=user, phone=PHONE)
    pending = PendingEnrolment(user=user, tenant=factor.tenant)
    pending.set_phone(parse_e164(PENDING))
    pending.save()

    out = StringIO()
    call_command("dumpdata", *MODELS, stdout=out)
    dump = out.getvalue()

    for e164 in (PHONE, PENDING):
        assert e164 not in dump and e164[2:] not in dump and e164[-7:] not in dump
    rows = {row["model"]: row["fields"] for row in json.loads(dump)}
    assert rows["intelliauth_sms.smsfactor"]["phone_number"].startswith("gAAAA")

    path = tmp_path / "dump.json"
    path.write_text(dump)
    SmsFactor.objects.all().delete()
    PendingEnrolment.objects.all().delete()
    call_command("loaddata", str(path), verbosity=0)

    restored = SmsFactor.objects.get(pk=factor.pk)
    assert str(restored.phone_number) == PHONE
    assert restored.phone_hash == phone_hash(PHONE)
    assert str(PendingEnrolment.objects.get(pk=pending.pk).phone_number) == PENDING
    # The restored factor receives the sign-in code.
    flow = start_flow(user)
    sent = anon_api.post(f"/api/mfa/sms/flows/{flow.id}/sms/initiate/", {}, format="json")
    assert sent.status_code == 202 and [sms.to for sms in outbox] == [PHONE]
    assert AuthFlow.objects.get(pk=flow.id).factor_id == factor.pk


def test_a_dump_loaded_twice_is_not_encrypted_twice(user: Any, tmp_path: Path) -> None:
    SmsFactorFactory(user=user, phone=PHONE)
    first = StringIO()
    call_command("dumpdata", MODELS[0], stdout=first)
    path = tmp_path / "dump.json"
    path.write_text(first.getvalue())
    call_command("loaddata", str(path), verbosity=0)
    call_command("loaddata", str(path), verbosity=0)
    assert str(SmsFactor.objects.get().phone_number) == PHONE
