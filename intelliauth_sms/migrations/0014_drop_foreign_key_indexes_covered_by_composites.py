"""Drop the single-column indexes of three foreign keys that composite indexes cover.

``SmsMessage.user`` and ``SmsMessage.tenant`` lead ``iasms_msg_user_window`` and the
tenant's window indexes; ``SmsCode.user`` leads ``iasms_code_user_state``. The indexes
cost every send's inserts and every delivery's outcome.

Only the indexes go. ``AlterField`` would also drop and re-add each foreign-key constraint,
which on PostgreSQL re-checks every row of the table under a lock; the constraints stay
as they are, so the database work is limited to the ``DROP INDEX`` statements. MySQL keeps
its own index for each foreign key (Django never made one there), so nothing happens there.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

#: (model, field, target, related name): the foreign keys whose own index goes.
COVERED = [
    ("smscode", "user", settings.AUTH_USER_MODEL, "sms_codes"),
    ("smsmessage", "tenant", "intelliauth_sms.tenant", "sms_messages"),
    ("smsmessage", "user", settings.AUTH_USER_MODEL, "sms_messages"),
]


def _index_name(schema_editor, model, field_name):
    field = model._meta.get_field(field_name)
    # The name Django gave the index when it created the field with ``db_index=True``.
    return schema_editor._create_index_name(model._meta.db_table, [field.column])


def _exists(schema_editor, model, name):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return name in constraints and constraints[name]["index"]


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        return
    for model_name, field_name, _target, _related_name in COVERED:
        model = apps.get_model("intelliauth_sms", model_name)
        name = _index_name(schema_editor, model, field_name)
        if _exists(schema_editor, model, name):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        return
    for model_name, field_name, _target, _related_name in COVERED:
        model = apps.get_model("intelliauth_sms", model_name)
        name = _index_name(schema_editor, model, field_name)
        if not _exists(schema_editor, model, name):
            field = model._meta.get_field(field_name)
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field], name=name))


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
                    model_name=model_name,
                    name=field_name,
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name=related_name,
                        to=target,
                    ),
                )
                for model_name, field_name, target, related_name in COVERED
            ],
        ),
    ]
