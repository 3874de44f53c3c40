"""The DPO reads the audit log of staff actions."""

from django.db import migrations

from privacy_portal.roles import migration_permissions_create, roles_grant

GRANTS = {"DPO": ["privacy_portal.view_staffaction"]}


def grant(apps, schema_editor):
    migration_permissions_create(apps)
    roles_grant(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy_portal", "0003_staff_action_audit_log"),
        ("requests_app", "0006_marketing_role"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
