import io

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from privacy_portal.services import totp_device_enrol


class Command(BaseCommand):
    help = (
        "Enrol a TOTP authenticator for a staff user (the admin's second factor): prints the "
        "otpauth:// link and a QR code to scan with an authenticator app."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="authenticator", help="A name for the device.")
        parser.add_argument(
            "--replace", action="store_true", help="Remove the user's earlier TOTP devices."
        )
        parser.add_argument("--no-qr", action="store_true", help="Print only the link.")

    def handle(self, *args, username: str, name: str, replace: bool, no_qr: bool, **options):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_staff:
            raise CommandError(f"{username!r} is not a staff user; the admin would refuse them.")
        device = totp_device_enrol(user=user, name=name, replace=replace)
        if not no_qr:
            code = qrcode.QRCode(border=1)
            code.add_data(device.config_url)
            out = io.StringIO()
            code.print_ascii(out=out, invert=True)
            self.stdout.write(out.getvalue())
        self.stdout.write(device.config_url)
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Enrolled {name!r} for {username}. Scan the code (or open the link) in an "
                    "authenticator app; the admin now asks for its six-digit code."
                )
            )
