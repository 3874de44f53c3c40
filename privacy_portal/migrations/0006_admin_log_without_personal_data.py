"""Rewrite what Django's admin log already holds about records of personal data.

From now on the admin writes only the kind and id of such records (admin_mixins.
PersonalDataLogMixin); entries written before still carry each record's str() (names and
addresses) and inline objects' names in their change messages. They are rewritten the
same way. Not reversible: the old texts are what must not remain.
"""

import json

from django.db import migrations

# The models whose str() holds personal data, as they were when this migration was written.
PERSONAL_DATA_MODELS = [
    ("auth", "user"),
    ("consent", "marketingpreference"),
    ("consent", "registration"),
    ("consent", "consentsubject"),
    ("requests_app", "contactmessage"),
    ("requests_app", "datasubjectrequest"),
    ("requests_app", "legalhold"),
    ("privacy_portal", "outgoingemail"),
]


def _message(text: str) -> str:
    try:
        entries = json.loads(text)
    except ValueError:
        return ""
    if not isinstance(entries, list):
        return ""
    return json.dumps(
        [
            {action: {k: v for k, v in detail.items() if k != "object"}}
            for entry in entries
            if isinstance(entry, dict)
            for action, detail in entry.items()
            if isinstance(detail, dict)
        ]
    )


def neutralise(apps, schema_editor):
    LogEntry = apps.get_model("admin", "LogEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    for app_label, model in PERSONAL_DATA_MODELS:
        content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
        if content_type is None:
            continue
        name = model
        try:
            name = str(apps.get_model(app_label, model)._meta.verbose_name)
        except LookupError:
            pass
        for entry in LogEntry.objects.filter(content_type=content_type).iterator():
            entry.object_repr = f"{name} {entry.object_id}"[:200]
            entry.change_message = _message(entry.change_message) if entry.change_message else ""
            entry.save(update_fields=["object_repr", "change_message"])


class Migration(migrations.Migration):
    dependencies = [
        ("privacy_portal", "0005_outgoing_email_to_index"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(neutralise, migrations.RunPython.noop)]
