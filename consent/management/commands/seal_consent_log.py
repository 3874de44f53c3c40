from django.core.management.base import BaseCommand

from consent.sealing import consent_log_seal, consent_log_unsealed


class Command(BaseCommand):
    help = (
        "Seal the unsealed consent records into a batch whose hash chains to the previous "
        "seal. Run it regularly (e.g. hourly); records younger than CONSENT_SEAL_DELAY_SECONDS "
        "wait for the next run."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say how many records would be sealed."
        )

    def handle(self, *args, dry_run: bool, verbosity: int, **options):
        if dry_run:
            plan = consent_log_unsealed()
            self.stdout.write(
                f"{plan.record_count} record(s) up to {plan.cutoff.isoformat()} would be sealed."
            )
            return
        seal = consent_log_seal()
        if seal is None:
            if verbosity >= 1:
                self.stdout.write("Nothing to seal.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Seal {seal.sequence}: {seal.record_count} record(s) up to "
                f"{seal.cutoff.isoformat()}, chain {seal.chain_sha256}"
            )
        )
