"""Create the DPO and Marketing groups with exactly the permissions of this version.

Permissions are normally created after all migrations; they are created here first so the
groups can hold them. `manage.py sync_roles` brings the groups up to date later on.
"""

from django.db import migrations

from privacy_portal.roles import migration_permissions_create, roles_apply

# Frozen copy: a migration must not change meaning when privacy_portal.roles does.
ROLES = {
    "DPO": [
        "privacy_portal.add_policyversion",
        "privacy_portal.change_policyversion",
        "privacy_portal.delete_policyversion",
        "privacy_portal.view_policyversion",
        "privacy_portal.view_outgoingemail",
        "consent.add_cookiecategory",
        "consent.change_cookiecategory",
        "consent.delete_cookiecategory",
        "consent.view_cookiecategory",
        "consent.add_cookie",
        "consent.change_cookie",
        "consent.delete_cookie",
        "consent.view_cookie",
        "consent.view_consentrecord",
        "consent.view_consentseal",
        "consent.view_bannertext",
        "requests_app.view_datasubjectrequest",
        "requests_app.change_datasubjectrequest",
        "requests_app.view_requestevent",
        "requests_app.view_erasureitem",
        "requests_app.view_erasurenotice",
        "requests_app.change_erasurenotice",
        "requests_app.view_contactmessage",
        "requests_app.change_contactmessage",
        "requests_app.view_processingpurpose",
        "requests_app.add_processingpurpose",
        "requests_app.change_processingpurpose",
        "requests_app.view_recipient",
        "requests_app.add_recipient",
        "requests_app.change_recipient",
        "requests_app.view_legalhold",
        "requests_app.add_legalhold",
        "requests_app.change_legalhold",
    ],
    "Marketing": [],
}


def create_roles(apps, schema_editor):
    migration_permissions_create(apps)
    roles_apply(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), ROLES)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0002_register_of_processing"),
        ("privacy_portal", "0002_outgoing_email"),
        ("consent", "0003_consent_subject"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
