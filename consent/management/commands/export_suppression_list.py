import argparse

from django.core.management.base import BaseCommand

from consent.marketing_exports import SUPPRESSION_HEADER, suppression_rows
from privacy_portal.audit import command_action_log
from privacy_portal.spreadsheets import csv_writer


class Command(BaseCommand):
    help = (
        "Write the suppression list as CSV: every address that refused a marketing purpose, "
        "and erased people as a keyed hash only. Load it into every mail tool you use."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=argparse.FileType("w", encoding="utf-8"),
            help="A file to write (default: standard output).",
        )

    def handle(self, *args, output, **options):
        writer = csv_writer(output or self.stdout)
        writer.writerow(SUPPRESSION_HEADER)
        writer.writerows(suppression_rows())
        command_action_log(command="export_suppression_list", model="consent.marketingpreference")
