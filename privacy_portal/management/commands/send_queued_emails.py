from django.core.management.base import BaseCommand

from privacy_portal.models import OutgoingEmail
from privacy_portal.outbox import emails_send_due


class Command(BaseCommand):
    help = (
        "Send every queued e-mail whose next attempt is due (run it every few minutes from "
        "cron; the task worker also retries on its own)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the e-mails that are due."
        )

    def handle(self, *args, dry_run: bool, verbosity: int, **options):
        if dry_run:
            from django.utils import timezone

            count = OutgoingEmail.objects.due(timezone.now()).count()
            self.stdout.write(f"{count} e-mail(s) due.")
            return
        counts = emails_send_due()
        if verbosity >= 1:
            sent = counts.get(OutgoingEmail.Status.SENT, 0)
            waiting = counts.get(OutgoingEmail.Status.PENDING, 0)
            failed = counts.get(OutgoingEmail.Status.FAILED, 0)
            self.stdout.write(f"Sent {sent}, still waiting {waiting}, given up {failed}.")
