from django.core.management.base import BaseCommand

from consent.registration import registrations_purge


class Command(BaseCommand):
    help = (
        "Delete what waited too long: children's data with no parental answer within "
        "PARENTAL_CONSENT_DAYS (recorded as expired, without the data), unconfirmed sign-ups, "
        "and young people who did not confirm their own consent. Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count what would go.")

    def handle(self, *args, dry_run: bool, verbosity: int, **options):
        result = registrations_purge(dry_run=dry_run)
        if verbosity >= 1:
            verb = "would be deleted" if dry_run else "deleted"
            self.stdout.write(
                f"Children's registrations without an answer {verb}: {result.children_expired}"
            )
            self.stdout.write(f"Unconfirmed registrations {verb}: {result.unconfirmed_deleted}")
            self.stdout.write(
                f"Registrations without own consent {verb}: {result.own_consent_missing}"
            )
