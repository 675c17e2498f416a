"""Cleared phone numbers stored as encrypted tokens of ``""`` become empty columns.

Until now a cleared destination (an SMS once sent, an enrolment once completed) was written
as a Fernet token of the empty string, so ``exclude(phone_number="")`` and the partial index
of unsent messages took it for a stored number (the sweep scanned every message ever sent).
``EncryptedPhoneNumberField`` now stores an empty value empty; this migration mends the rows
already written. It decrypts each non-empty column once (about 20 µs a row).
"""

from typing import Any

from django.db import migrations

MODELS = ("smsmessage", "pendingenrolment", "smsfactor")
CHUNK = 2000


def clear_empty_tokens(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    for name in MODELS:
        model = apps.get_model("intelliauth_sms", name)
        rows = (
            model.objects.using(connection.alias)
            .exclude(phone_number="")
            .values_list("pk", "phone_number")  # decrypted by the field
        )
        emptied = [
            model._meta.pk.get_db_prep_value(pk, connection)
            for pk, number in rows.iterator(chunk_size=CHUNK)
            if str(number) == ""
        ]
        # Plain SQL: the historical field encrypts whatever the ORM writes, "" included.
        table, column = qn(model._meta.db_table), qn(model._meta.get_field("phone_number").column)
        key = qn(model._meta.pk.column)
        with connection.cursor() as cursor:
            for start in range(0, len(emptied), CHUNK):
                chunk = emptied[start : start + CHUNK]
                cursor.execute(
                    f"UPDATE {table} SET {column} = '' "  # noqa: S608 (quoted names only)
                    f"WHERE {key} IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )


class Migration(migrations.Migration):
    dependencies = [
        ("intelliauth_sms", "0012_allauth_code_purpose"),
    ]

    operations = [
        migrations.RunPython(clear_empty_tokens, migrations.RunPython.noop, elidable=True),
    ]
