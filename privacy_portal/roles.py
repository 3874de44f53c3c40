"""Staff roles as Django groups, with least privilege.

Each later app adds its permissions here; `manage.py sync_roles` (and the demo loader)
bring the groups in the database in line with this table.
"""

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
    ],
    # Marketing staff see nothing of the policy workflow, requests or consent evidence.
    "Marketing": [],
}


def _permissions(codenames: list[str]) -> list[Permission]:
    permissions = []
    for dotted in codenames:
        app_label, codename = dotted.split(".", 1)
        permissions.append(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return permissions


@transaction.atomic
def roles_sync() -> dict[str, Group]:
    """Create the groups and set their permissions to exactly ROLE_PERMISSIONS."""
    groups = {}
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(codenames))
        groups[name] = group
    return groups
