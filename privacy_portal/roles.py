"""Staff roles as Django groups, with least privilege.

Each later app adds its permissions here; `manage.py sync_roles` (and the demo loader)
bring the groups in the database in line with this table.
"""

from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # The data protection officer publishes policy versions.
    "DPO": [
        "privacy_portal.add_policyversion",
        "privacy_portal.change_policyversion",
        "privacy_portal.delete_policyversion",
        "privacy_portal.view_policyversion",
        # Cookie declarations: the DPO keeps them true to what the site sets.
        "consent.add_cookiecategory",
        "consent.change_cookiecategory",
        "consent.delete_cookiecategory",
        "consent.view_cookiecategory",
        "consent.add_cookie",
        "consent.change_cookie",
        "consent.delete_cookie",
        "consent.view_cookie",
        # The consent log and its seals: read and export only (the admin allows no more).
        "consent.view_consentrecord",
        "consent.view_consentseal",
        "consent.view_bannertext",
        # The request queue: work requests (the admin offers no add or delete), read and
        # answer contact messages, keep the register of processing and legal holds.
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
        # The outbox: see that every message went out.
        "privacy_portal.view_outgoingemail",
        # The audit log of staff actions (reads included): read only.
        "privacy_portal.view_staffaction",
        # Registrations and the evidence of parents' consent: read only.
        "consent.view_registration",
        "consent.view_parentalconsent",
        "consent.view_parentalconsentevent",
        # Marketing preferences and their history: read (objections are carried out there).
        "consent.view_marketingpreference",
        "consent.view_preferencechange",
    ],
    # Marketing staff toggle preferences (with a reason) and export the suppression list and
    # audiences; they see nothing of requests, the consent log, children or registrations.
    "Marketing": [
        "consent.view_marketingpreference",
        "consent.change_marketingpreference",
        "consent.view_preferencechange",
    ],
}


def roles_apply(group_model, permission_model, table: dict[str, list[str]]) -> dict:
    """Create the groups of `table` and set their permissions to exactly those listed.

    Takes the models as arguments so a data migration can run it with historical models.
    """
    groups = {}
    for name, codenames in table.items():
        group, _ = group_model.objects.get_or_create(name=name)
        permissions = []
        for dotted in codenames:
            app_label, codename = dotted.split(".", 1)
            permissions.append(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)
        groups[name] = group
    return groups


def migration_permissions_create(apps) -> None:
    """Create every model's permissions inside a data migration (Django creates them only
    after all migrations ran), so the migration can give them to a group."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def roles_grant(group_model, permission_model, table: dict[str, list[str]]) -> None:
    """Add the permissions of `table` to existing groups (for data migrations that extend
    a role when a new model arrives)."""
    for name, codenames in table.items():
        group, _ = group_model.objects.get_or_create(name=name)
        for dotted in codenames:
            app_label, codename = dotted.split(".", 1)
            group.permissions.add(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )


@transaction.atomic
def roles_sync() -> dict[str, Group]:
    """Create the groups and set their permissions to exactly ROLE_PERMISSIONS."""
    return roles_apply(Group, Permission, ROLE_PERMISSIONS)
