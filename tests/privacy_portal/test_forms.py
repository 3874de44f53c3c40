"""The address field every public form shares: what it refuses, and how it says so."""

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from consent.models import MarketingPreference, ParentalConsent, Registration
from privacy_portal.models import OutgoingEmail
from requests_app.models import ContactMessage, DataSubjectRequest

pytestmark = pytest.mark.django_db

LITERAL = "addresses at an IP address or at localhost are not accepted"
QUOTED = "addresses that need them are not accepted"
STORED = [
    ContactMessage,
    DataSubjectRequest,
    MarketingPreference,
    OutgoingEmail,
    ParentalConsent,
    Registration,
]


def adult_born() -> str:
    return (timezone.localdate() - datetime.timedelta(days=365 * 30)).isoformat()


def child_screened(client: Client) -> None:
    """A browser screened as a child: the parent's-address step is open to it. (An address
    of its own: the screen counts towards the registration's per-address limit.)"""
    client.post(
        "/register/",
        {
            "name": "Kim",
            "email": f"kim-{uuid.uuid4().hex}@example.org",
            "country": "DE",
            "date_of_birth": (timezone.localdate() - datetime.timedelta(days=365 * 12)).isoformat(),
        },
    )


@dataclass(frozen=True)
class AddressForm:
    """A public form that takes an address: where it is, its address field, what else it
    needs to be accepted, and the setting of its per-address hourly limit."""

    path: str
    field: str
    rate_setting: str
    data: Callable[[], dict] = dict
    prepare: Callable[[Client], None] = field(default=lambda client: None)

    def post(self, client: Client, address: str):
        return client.post(self.path, {**self.data(), self.field: address})


ADDRESS_FORMS = {
    "request": AddressForm(
        "/requests/new/",
        "email",
        "REQUEST_RATE_PER_EMAIL",
        lambda: {"kind": "access", "name": "Alice"},
    ),
    "contact": AddressForm(
        "/contact/", "email", "CONTACT_RATE_PER_EMAIL", lambda: {"name": "Alice", "message": "Hi"}
    ),
    "register": AddressForm(
        "/register/",
        "email",
        "REGISTER_RATE_PER_EMAIL",
        lambda: {"name": "Alice", "country": "FR", "date_of_birth": adult_born()},
    ),
    "register-parent": AddressForm(
        "/register/parent/", "parent_email", "REGISTER_RATE_PER_EMAIL", prepare=child_screened
    ),
    "preferences": AddressForm("/preferences/", "email", "PREFERENCES_RATE_PER_EMAIL"),
}


def fullwidth(text: str) -> str:
    """`text` in fullwidth letters, look-alikes that NFKC folds back to ASCII."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


def stored() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in STORED}


@pytest.mark.parametrize("address", ["a@[127.0.0.1]", "a@[IPv6:::1]", "a@[::1]", "a@localhost"])
@pytest.mark.parametrize("form", sorted(ADDRESS_FORMS))
def test_an_address_literal_is_refused_with_a_clear_message(
    form, address, demo_policy, django_capture_on_commit_callbacks
):
    # Issue 13, finding 8: mail to an address literal goes to whatever host it names.
    entry = ADDRESS_FORMS[form]
    client = Client()
    entry.prepare(client)
    before = stored()

    with django_capture_on_commit_callbacks(execute=True):
        response = entry.post(client, address)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert LITERAL in response.content.decode()
    assert stored() == before
    assert mail.outbox == []


@pytest.mark.parametrize(
    "address", ['"a b"@example.org', '"a@b"@example.org', '"a..b"@example.org', '""@example.org']
)
@pytest.mark.parametrize("form", sorted(ADDRESS_FORMS))
def test_a_local_part_that_needs_quotes_is_refused_with_a_clear_message(form, address, demo_policy):
    entry = ADDRESS_FORMS[form]
    client = Client()
    entry.prepare(client)
    before = stored()

    response = entry.post(client, address)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert QUOTED in response.content.decode()
    assert stored() == before
    assert mail.outbox == []


def test_needless_quotes_case_and_look_alikes_are_stored_as_the_plain_address(
    demo_policy, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        address = f' "Alice"@{fullwidth("EXAMPLE")}.org '
        response = ADDRESS_FORMS["request"].post(Client(), address)

    assert response.status_code == HTTPStatus.SEE_OTHER
    assert DataSubjectRequest.objects.get().email == "alice@example.org"
    assert mail.outbox[-1].to == ["alice@example.org"]
