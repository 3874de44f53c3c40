"""Signed links (privacy_portal.links): a token that is correctly signed but unreadable is
an invalid link, a clear 400, never a server error (found by tests/test_fuzz.py)."""

import zlib
from http import HTTPStatus

import pytest
from django.core import signing

from consent import preferences, registration
from requests_app import tokens

pytestmark = pytest.mark.django_db

LINKS = [
    ("/requests/verify/", tokens.VERIFY),
    ("/requests/status/", tokens.STATUS),
    ("/register/confirm/", registration.CONFIRM),
    ("/parental-consent/", registration.PARENT),
    ("/preferences/", preferences.PREFERENCES_LINK),
    ("/unsubscribe/", preferences.UNSUBSCRIBE_LINK),
]
UNREADABLE = {
    "not zlib": b"not zlib data",
    "nested too deep": zlib.compress(b"[" * 5000 + b"]" * 5000),
}


@pytest.mark.parametrize("content", UNREADABLE.values(), ids=UNREADABLE.keys())
@pytest.mark.parametrize(("prefix", "salt"), LINKS, ids=[prefix for prefix, _salt in LINKS])
def test_a_signed_but_unreadable_token_is_an_invalid_link(
    client, demo_policy, prefix, salt, content
):
    token = signing.TimestampSigner(salt=salt).sign("." + signing.b64_encode(content).decode())

    response = client.get(f"{prefix}{token}/")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "This link is not valid" in response.content.decode()
