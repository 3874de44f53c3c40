from django.core.management.base import BaseCommand

from consent.registration import registrations_coming_of_age


class Command(BaseCommand):
    help = (
        "Children who reached the age of digital consent: end the parent's consent and ask "
        "the young person to confirm their own. Run it daily."
    )

    def handle(self, *args, verbosity: int, **options):
        count = registrations_coming_of_age()
        if verbosity >= 1:
            self.stdout.write(f"Young people asked for their own consent: {count}")
