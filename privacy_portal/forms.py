"""Small helpers for the portal's forms, and the address field every public form uses."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _

from .hashing import email_normalise


def posted(request: HttpRequest) -> QueryDict | None:
    """The POST data to bind a form to, or None on GET.

    Not `request.POST or None`: an empty POST (every box unticked, or nothing filled in) is
    still a submission, to be saved or answered with errors, not a fresh page.
    """
    return request.POST if request.method == "POST" else None


class PublicEmailValidator(EmailValidator):
    """Django's address check, less what is legal but only ever abused on a public form.

    An address literal (`a@[127.0.0.1]`, `a@[IPv6:::1]`) or `localhost` would have the
    portal's mail server deliver to whatever host the visitor names, its own included. A
    local part that still needs quotes once needless ones are dropped (`"a b"@`, `"a@b"@`)
    is read differently by different mail software, the trick behind address-splitting
    attacks; no one needs one to receive our mail.
    """

    literal_message = _(
        "Enter an address at a mail domain, such as name@example.org: addresses at an IP "
        "address or at localhost are not accepted."
    )
    quoted_message = _(
        "Enter the address without quotation marks: addresses that need them are not accepted."
    )

    def __init__(self):
        super().__init__(allowlist=[])

    def __call__(self, value: str) -> None:
        local, at, domain = value.rpartition("@")
        if at and (domain.startswith("[") or domain.rstrip(".").lower() == "localhost"):
            raise ValidationError(self.literal_message, code="address_literal")
        if local.startswith('"'):
            raise ValidationError(self.quoted_message, code="quoted_local_part")
        super().__call__(value)


class PublicEmailField(forms.EmailField):
    """The address field of every public form. The value is normalised before it is
    checked (privacy_portal.hashing.email_normalise), so what is validated is what is
    stored, counted by the rate limits and mailed to."""

    default_validators = [PublicEmailValidator()]

    def to_python(self, value) -> str:
        value = super().to_python(value)
        return email_normalise(value) if value else value
