from django.core.management.base import BaseCommand

from requests_app.services import exports_purge_expired, requests_purge_unverified


class Command(BaseCommand):
    help = (
        "Delete requests never confirmed within REQUEST_VERIFY_DAYS (with their e-mails) and "
        "access exports whose download link has expired. Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count what would go.")

    def handle(self, *args, dry_run: bool, verbosity: int, **options):
        requests = requests_purge_unverified(dry_run=dry_run)
        exports = exports_purge_expired(dry_run=dry_run)
        verb = "would be deleted" if dry_run else "deleted"
        if verbosity >= 1:
            self.stdout.write(f"Unconfirmed requests {verb}: {requests}")
            self.stdout.write(f"Expired access exports {verb}: {exports}")
