"""Cleared phone numbers stored as encrypted tokens of ``""`` become empty columns.

Until now a cleared destination (an SMS once sent, an enrolment once completed) was written
as a Fernet token of the empty string, so ``exclude(phone_number="")`` and the partial index
of unsent messages took it for a stored number (the sweep's index held every message ever
sent). ``EncryptedPhoneNumberField`` now stores an empty value empty; this migration mends
the rows already written.

Rows are found by their state, not by decrypting them (a token written under a key the site
has since rotated away opens no more, and re-keying skips tokens of ``""``): every message
past ``queued``/``sending`` and every completed enrolment has had its number cleared.
Factors keep their numbers and are not touched. It runs in batches, each its own
transaction (``atomic = False``), so a large table is neither locked nor held in memory
whole, and a batch stays under SQLite's 999-parameter limit.
"""

from typing import Any

from django.db import migrations, transaction

#: Rows per batch (under SQLite's limit of 999 parameters a statement).
BATCH = 500
#: The message states whose destination is kept: it has not been used yet.
UNSENT = ("queued", "sending")


def _cleared_rows(apps: Any, alias: str) -> list[tuple[Any, Any]]:
    """For each model, the rows whose number was cleared but may still hold a token."""
    message = apps.get_model("intelliauth_sms", "SmsMessage")
    enrolment = apps.get_model("intelliauth_sms", "PendingEnrolment")
    return [
        (message, message.objects.using(alias).exclude(status__in=UNSENT)),
        (enrolment, enrolment.objects.using(alias).filter(completed_at__isnull=False)),
    ]


def clear_empty_tokens(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    for model, rows in _cleared_rows(apps, connection.alias):
        # Plain SQL: the historical field encrypts whatever the ORM writes, "" included.
        table, column = qn(model._meta.db_table), qn(model._meta.get_field("phone_number").column)
        key, prepare = qn(model._meta.pk.column), model._meta.pk.get_db_prep_value
        after = None  # keyset: each batch starts past the last, never rescanning the table
        while True:
            with transaction.atomic(using=connection.alias):
                page = rows.exclude(phone_number="").order_by("pk")
                if after is not None:
                    page = page.filter(pk__gt=after)
                batch = list(page.values_list("pk", flat=True)[:BATCH])
                if not batch:
                    break
                after = batch[-1]
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} SET {column} = '' "  # noqa: S608 (quoted names only)
                        f"WHERE {key} IN ({', '.join(['%s'] * len(batch))})",
                        [prepare(pk, connection) for pk in batch],
                    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("intelliauth_sms", "0012_allauth_code_purpose"),
    ]

    operations = [
        migrations.RunPython(clear_empty_tokens, migrations.RunPython.noop, elidable=True),
    ]
