from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from requests_app.registry import retention_enforce


class Command(BaseCommand):
    help = (
        "Delete or anonymise every record past the retention period its app declares "
        "(personal_data.RETENTION: contact messages, closed and unconfirmed requests, "
        "exports, the outbox, the staff audit log, marketing-choice history, parental-consent "
        "records, sign-ups, sessions, finished tasks, the consent log's sealed batches). "
        "Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only list, per kind of record, how many are past retention.",
        )

    def handle(self, *args, dry_run: bool, verbosity: int, **options):
        now = timezone.now()
        verb = "past retention, would be" if dry_run else ""
        failed = []
        for rule, outcome in retention_enforce(now=now, dry_run=dry_run):
            if isinstance(outcome, Exception):
                failed.append(rule.name)
                self.stderr.write(f"{rule.name}: failed: {type(outcome).__name__}: {outcome}")
                continue
            if verbosity >= 2 or (verbosity >= 1 and (outcome or dry_run)):
                done = f"{verb} {rule.outcome}".strip()
                self.stdout.write(f"{rule.name}: {outcome} {done} (kept {rule.period()})")
        if failed:
            raise CommandError(f"Retention not enforced for: {', '.join(failed)}.")
