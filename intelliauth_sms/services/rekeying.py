"""Re-encrypting and re-hashing the stored numbers after a key rotation.

``FIELD_ENCRYPTION_KEY`` may be a list, newest first (django-encrypted-model-fields reads
every key and writes with the first): after adding a key, saving each row again encrypts
it with the new one, and the old key can then go. ``HASH_KEY`` keys the lookup hashes:
after changing it, each number's ``phone_hash`` must be computed again or enrolment would
no longer recognise a number already in use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction

from intelliauth_sms.crypto import phone_hash
from intelliauth_sms.models import PendingEnrolment, SmsFactor, SmsMessage

#: Rows re-saved per transaction.
BATCH = 500
#: What a decrypted number looks like. The encryption library hands back the ciphertext
#: unchanged when no key opens it, and that must never be re-hashed or re-encrypted.
_E164 = re.compile(r"\+[1-9]\d{6,14}")


@dataclass(frozen=True)
class RekeyReport:
    factors: int
    enrolments: int
    messages: int
    #: Rows no configured key could decrypt (left as they were).
    unreadable: int = 0


def rekey_numbers() -> RekeyReport:
    """Encrypt every stored number with the first ``FIELD_ENCRYPTION_KEY`` and hash it with
    the current ``HASH_KEY``. Sent messages hold no number (cleared once used) and keep
    their hash: it only serves the rolling one-hour limits."""
    counts, unreadable = [], 0
    for model in (SmsFactor, PendingEnrolment, SmsMessage):
        done = 0
        pks = list(model.objects.exclude(phone_number="").values_list("pk", flat=True))
        for start in range(0, len(pks), BATCH):
            with transaction.atomic():
                rows = model.objects.select_for_update().filter(pk__in=pks[start : start + BATCH])
                for row in rows:
                    if not _E164.fullmatch(str(row.phone_number or "")):
                        unreadable += 1
                        continue
                    row.phone_hash = phone_hash(str(row.phone_number))
                    row.save(update_fields=["phone_number", "phone_hash"])
                    done += 1
        counts.append(done)
    factors, enrolments, messages = counts
    return RekeyReport(factors, enrolments, messages, unreadable=unreadable)
