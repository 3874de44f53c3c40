import argparse

from django.core.management.base import BaseCommand, CommandError

from consent.marketing import MarketingPurpose
from consent.marketing_exports import AUDIENCE_HEADER, audience_rows
from privacy_portal.audit import command_action_log
from privacy_portal.spreadsheets import csv_writer


class Command(BaseCommand):
    help = (
        "Write, as CSV, everyone who may be contacted for a marketing purpose: e-mail, name, "
        "language and their one-click unsubscribe URL (for the List-Unsubscribe header)."
    )

    def add_arguments(self, parser):
        parser.add_argument("purpose", help=f"One of: {', '.join(MarketingPurpose.values)}")
        parser.add_argument(
            "--output",
            type=argparse.FileType("w", encoding="utf-8"),
            help="A file to write (default: standard output).",
        )

    def handle(self, *args, purpose: str, output, **options):
        if purpose not in MarketingPurpose.values:
            choices = ", ".join(MarketingPurpose.values)
            raise CommandError(f"Unknown purpose {purpose!r}; use one of: {choices}.")
        writer = csv_writer(output or self.stdout)
        writer.writerow(AUDIENCE_HEADER)
        writer.writerows(audience_rows(purpose))
        command_action_log(
            command=f"export_audience {purpose}", model="consent.marketingpreference"
        )
