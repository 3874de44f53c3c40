"""The DPO group reads registrations and the evidence of parental consent."""

from django.db import migrations

from privacy_portal.roles import migration_permissions_create, roles_grant

GRANTS = {
    "DPO": [
        "consent.view_registration",
        "consent.view_parentalconsent",
        "consent.view_parentalconsentevent",
    ]
}


def grant(apps, schema_editor):
    migration_permissions_create(apps)
    roles_grant(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0004_registration_and_parental_consent"),
        ("requests_app", "0004_register_registration"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
