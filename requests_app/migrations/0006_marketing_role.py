"""Marketing staff work on marketing preferences; the DPO reads them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from privacy_portal.roles import roles_grant

GRANTS = {
    "Marketing": [
        "consent.view_marketingpreference",
        "consent.change_marketingpreference",
        "consent.view_preferencechange",
    ],
    "DPO": ["consent.view_marketingpreference", "consent.view_preferencechange"],
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_grant(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0005_marketing_preferences"),
        ("requests_app", "0005_dpo_reads_registrations"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
