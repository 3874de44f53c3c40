from django.core.management.base import BaseCommand, CommandError

from consent.sealing import consent_log_verify


class Command(BaseCommand):
    help = (
        "Recompute every seal of the consent log and name every record changed, removed or "
        "inserted since sealing. Exits non-zero when anything differs."
    )

    def handle(self, *args, verbosity: int, **options):
        result = consent_log_verify()
        for problem in result.problems:
            self.stderr.write(problem.message)
        if verbosity >= 1:
            for seal in result.purged:
                self.stdout.write(
                    f"Seal {seal.sequence}: its {seal.record_count} record(s) up to "
                    f"{seal.cutoff.isoformat()} were purged past retention on "
                    f"{seal.purged_at.isoformat()}; its hashes still chain."
                )
        summary = f"{result.seals} seal(s), {result.records} sealed record(s) checked"
        if not result.ok:
            raise CommandError(f"{summary}: {len(result.problems)} problem(s) found.")
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(f"{summary}: the consent log is intact."))
