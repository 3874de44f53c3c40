from django.core.management.base import BaseCommand

from privacy_portal.roles import roles_sync


class Command(BaseCommand):
    help = "Create the staff groups (DPO, Marketing) and set exactly their permissions."

    def handle(self, *args, verbosity: int, **options):
        groups = roles_sync()
        if verbosity >= 1:
            for name, group in groups.items():
                count = group.permissions.count()
                self.stdout.write(f"{name}: {count} permission(s)")
