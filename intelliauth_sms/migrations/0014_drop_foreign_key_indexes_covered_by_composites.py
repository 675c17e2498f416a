"""Drop the single-column indexes of three foreign keys that composite indexes cover.

``SmsMessage.user`` and ``SmsMessage.tenant`` lead ``iasms_msg_user_window`` and the
tenant's window indexes; ``SmsCode.user`` leads ``iasms_code_user_state``. The indexes
cost every send's inserts and every delivery's outcome.

Only the indexes go. ``AlterField`` would also drop and re-add each foreign-key constraint,
which on PostgreSQL re-checks every row of the table under a lock; the constraints stay
as they are, so the database work is limited to the ``DROP INDEX`` statements.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

#: (model, field): the foreign keys whose own index goes.
COVERED = [("smscode", "user"), ("smsmessage", "tenant"), ("smsmessage", "user")]


def _index_name(schema_editor, model, field_name):
    field = model._meta.get_field(field_name)
    # The name Django gave the index when it created the field with ``db_index=True``.
    return schema_editor._create_index_name(model._meta.db_table, [field.column])


def drop_indexes(apps, schema_editor):
    for model_name, field_name in COVERED:
        model = apps.get_model("intelliauth_sms", model_name)
        name = _index_name(schema_editor, model, field_name)
        existing = schema_editor.connection.introspection.get_constraints(
            schema_editor.connection.cursor(), model._meta.db_table
        )
        if name in existing and existing[name]["index"]:
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_indexes(apps, schema_editor):
    for model_name, field_name in COVERED:
        model = apps.get_model("intelliauth_sms", model_name)
        field = model._meta.get_field(field_name)
        schema_editor.execute(
            schema_editor._create_index_sql(
                model, fields=[field], name=_index_name(schema_editor, model, field_name)
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("intelliauth_sms", "0013_empty_phone_numbers_stored_empty"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="smscode",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sms_codes",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="smsmessage",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sms_messages",
                        to="intelliauth_sms.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="smsmessage",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sms_messages",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
