"""Marketing staff work on marketing preferences; the DPO reads them."""

from django.db import migrations

from privacy_portal.roles import migration_permissions_create, roles_grant

GRANTS = {
    "Marketing": [
        "consent.view_marketingpreference",
        "consent.change_marketingpreference",
        "consent.view_preferencechange",
    ],
    "DPO": ["consent.view_marketingpreference", "consent.view_preferencechange"],
}


def grant(apps, schema_editor):
    migration_permissions_create(apps)
    roles_grant(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0005_marketing_preferences"),
        ("requests_app", "0005_dpo_reads_registrations"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
