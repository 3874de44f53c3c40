"""The DPO group reads registrations and the evidence of parental consent."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from privacy_portal.roles import roles_grant

GRANTS = {
    "DPO": [
        "consent.view_registration",
        "consent.view_parentalconsent",
        "consent.view_parentalconsentevent",
    ]
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_grant(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0004_registration_and_parental_consent"),
        ("requests_app", "0004_register_registration"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
