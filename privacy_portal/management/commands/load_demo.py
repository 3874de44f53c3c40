from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from privacy_portal.demo import (
    demo_declarations_load,
    demo_dpo_ensure,
    demo_policy_load,
    demo_register_load,
    demo_requests_load,
)


class Command(BaseCommand):
    help = (
        "Load the demo content (policy versions 1 and 2, in English and German) and ensure a "
        "demo DPO login. "
        "Safe to run again: existing data is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password-file",
            type=Path,
            default=Path(settings.BASE_DIR) / "var" / "demo-dpo-password",
            help="Where the demo DPO password is kept between runs (default: var/).",
        )

    def handle(self, *args, password_file: Path, verbosity: int, **options):
        demo_declarations_load()
        created = demo_policy_load()
        if verbosity >= 1:
            if created:
                numbers = ", ".join(f"{v.number} ({v.language})" for v in created)
                message = f"Published demo policy version(s) {numbers}."
                self.stdout.write(self.style.SUCCESS(message))
            else:
                self.stdout.write("Demo policy versions already present; nothing changed.")
        demo_register_load()
        if demo_requests_load() and verbosity >= 1:
            self.stdout.write("Added demo requests to the queue and a contact message.")
        user, password = demo_dpo_ensure(password_file=password_file)
        self.stdout.write(
            self.style.WARNING(
                f"Demo DPO login for /admin/: username '{user.username}', password '{password}'"
            )
        )
