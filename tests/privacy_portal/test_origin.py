"""Cross-origin protection without a token (privacy_portal/origin.py), through HTTP: the
cookie decision (form and JSON) and the language switch refuse what another origin's page
makes a browser send, accept what the site's own pages and non-browser clients send, and
the forms that carry personal data still demand Django's token."""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client

from consent.models import ConsentRecord

pytestmark = pytest.mark.django_db

OWN = "http://testserver"
ATTACKER = "https://attacker.example"


@dataclass(frozen=True)
class Endpoint:
    """One of the token-free endpoints, posted as its page (or the banner's module) does."""

    post: Callable[[Client, dict[str, str]], HttpResponse]
    accepted: HTTPStatus
    cookie: str  # the cookie an accepted post sets
    json: bool = False  # posted by the banner's module, which is answered in JSON

    def took_effect(self, response: HttpResponse) -> bool:
        """Whether the post changed anything: a consent-log row, the visitor's cookie."""
        stored = self.cookie != "portal_consent" or ConsentRecord.objects.exists()
        return stored and self.cookie in response.cookies


def _consent_form(client: Client, headers: dict[str, str]) -> HttpResponse:
    data = {"action": "accept_all", "scope": "prompt", "next": "/privacy/"}
    return client.post("/consent/", data, headers=headers)


def _consent_json(client: Client, headers: dict[str, str]) -> HttpResponse:
    return client.post(
        "/consent/",
        {"action": "accept_all", "scope": "prompt"},
        content_type="application/json",
        headers={"Accept": "application/json", **headers},
    )


def _language(client: Client, headers: dict[str, str]) -> HttpResponse:
    return client.post("/i18n/setlang/", {"language": "de", "next": "/privacy/"}, headers=headers)


ENDPOINTS = {
    "consent form": Endpoint(_consent_form, HTTPStatus.SEE_OTHER, "portal_consent"),
    "consent JSON": Endpoint(_consent_json, HTTPStatus.OK, "portal_consent", json=True),
    "language switch": Endpoint(_language, HTTPStatus.FOUND, settings.LANGUAGE_COOKIE_NAME),
}


@pytest.fixture(params=list(ENDPOINTS))
def endpoint(request, demo_policy) -> Endpoint:
    return ENDPOINTS[request.param]


@pytest.fixture
def strict() -> Client:
    """A client Django's CSRF middleware checks as it checks browsers."""
    return Client(enforce_csrf_checks=True)


def assert_refused(endpoint: Endpoint, response: HttpResponse) -> None:
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not endpoint.took_effect(response)
    assert ConsentRecord.objects.count() == 0
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def assert_accepted(endpoint: Endpoint, response: HttpResponse) -> None:
    assert response.status_code == endpoint.accepted
    assert endpoint.took_effect(response)


# --- Refused -----------------------------------------------------------------------------------


def test_a_cross_site_form_post_is_refused_and_changes_nothing(endpoint, strict):
    headers = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Origin": ATTACKER}

    response = endpoint.post(strict, headers)

    assert_refused(endpoint, response)
    # The project's CSRF failure answer: its page, or JSON for the module.
    assert "This page has expired" in response.text
    json = response.headers["Content-Type"] == "application/json"
    assert json == endpoint.json


def test_a_cross_site_fetch_is_refused_with_json(endpoint, strict):
    headers = {
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "cors",
        "Origin": ATTACKER,
        "Accept": "application/json",
    }

    response = endpoint.post(strict, headers)

    assert_refused(endpoint, response)
    assert response.headers["Content-Type"] == "application/json"
    assert "Nothing was saved" in response.json()["error"]


def test_a_same_site_page_of_another_origin_is_refused(endpoint, strict):
    headers = {"Sec-Fetch-Site": "same-site", "Origin": "http://blog.testserver"}

    assert_refused(endpoint, endpoint.post(strict, headers))


@pytest.mark.parametrize(
    "origin",
    [
        ATTACKER,
        "https://testserver",  # another scheme is another origin
        "http://testserver:8000",  # and so is another port
        "http://testserver.attacker.example",
    ],
)
def test_an_origin_other_than_the_site_is_refused_without_sec_fetch_site(endpoint, strict, origin):
    assert_refused(endpoint, endpoint.post(strict, {"Origin": origin}))


def test_origin_null_is_refused(endpoint, strict):
    assert_refused(endpoint, endpoint.post(strict, {"Origin": "null"}))


def test_a_refusal_is_logged_without_the_visitors_details(demo_policy, strict, caplog):
    headers = {"Sec-Fetch-Site": "cross-site", "Origin": ATTACKER}

    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        strict.post(
            "/consent/", {"action": "accept_all"}, headers=headers, REMOTE_ADDR="203.0.113.9"
        )

    [record] = [r for r in caplog.records if r.name == "django.security.csrf"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "/consent/" in message
    assert "another origin" in message
    assert "203.0.113" not in message
    assert "attacker" not in message


# --- Allowed -----------------------------------------------------------------------------------


def test_a_post_from_the_sites_own_page_is_accepted(endpoint, strict):
    headers = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Origin": OWN}

    response = endpoint.post(strict, headers)

    assert_accepted(endpoint, response)


def test_a_post_the_person_started_themselves_is_accepted(endpoint, strict):
    assert_accepted(endpoint, endpoint.post(strict, {"Sec-Fetch-Site": "none"}))


def test_a_client_sending_neither_header_needs_no_token(endpoint, strict):
    """Clients that are not browsers (a token would not stop them: they read it from the
    page as any visitor does) and browsers too old to send either header, as in Go's rule;
    every browser in use since 2023 sends Sec-Fetch-Site."""
    response = endpoint.post(strict, {})

    assert_accepted(endpoint, response)


@pytest.mark.parametrize(
    ("origin", "fetch_site"),
    [
        ("https://www.example.com", None),  # an old browser
        ("https://www.example.com", "same-site"),
        ("https://shop.example.org", "cross-site"),  # the wildcard form
        ("https://example.org", None),  # which covers the domain itself, as in Django
    ],
)
def test_a_trusted_origin_is_accepted(endpoint, strict, settings, origin, fetch_site):
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.example.com", "https://*.example.org"]
    headers = {"Origin": origin, **({"Sec-Fetch-Site": fetch_site} if fetch_site else {})}

    assert_accepted(endpoint, endpoint.post(strict, headers))


@pytest.mark.parametrize(
    "origin",
    [
        "http://www.example.com",  # not the scheme listed
        "http://shop.example.org",
        "https://example.org.attacker.example",
        "https://www.example.com.attacker.example",
    ],
)
def test_an_origin_near_a_trusted_one_is_refused(endpoint, strict, settings, origin):
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.example.com", "https://*.example.org"]

    assert_refused(endpoint, endpoint.post(strict, {"Origin": origin}))


def test_an_https_site_behind_its_proxy_compares_https_origins(endpoint, strict, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The proxy passes the Host header on and says the visitor's connection was https.
    proxied = {"Host": "testserver", "X-Forwarded-Proto": "https"}

    refused = endpoint.post(strict, {**proxied, "Origin": "http://testserver"})
    assert_refused(endpoint, refused)
    accepted = endpoint.post(strict, {**proxied, "Origin": "https://testserver"})
    assert_accepted(endpoint, accepted)


def test_a_forwarded_proto_from_no_declared_proxy_is_not_believed(endpoint, strict):
    headers = {"Host": "testserver", "X-Forwarded-Proto": "https", "Origin": "https://testserver"}

    assert_refused(endpoint, endpoint.post(strict, headers))


def test_safe_methods_pass_whatever_their_origin(demo_policy, strict):
    headers = {"Sec-Fetch-Site": "cross-site", "Origin": ATTACKER}

    language = strict.get("/i18n/setlang/?next=/privacy/", headers=headers)
    consent = strict.get("/consent/", headers=headers)

    assert language.status_code == HTTPStatus.FOUND  # changes nothing: only redirects
    assert settings.LANGUAGE_COOKIE_NAME not in language.cookies
    assert consent.status_code == HTTPStatus.METHOD_NOT_ALLOWED


# --- Which forms carry which protection ---------------------------------------------------------


def _forms(html: str) -> dict[str, str]:
    """The page's forms by their marker: the banner's and the language switch."""
    found = {}
    for marker in ("data-consent-form", 'class="language-switch"'):
        match = re.search(rf"<form[^>]*{marker}[^>]*>.*?</form>", html, re.S)
        found[marker] = match.group(0)
    return found


@pytest.mark.parametrize("path", ["/privacy/", "/cookies/"])
def test_the_shared_pages_forms_carry_no_token(demo_policy, strict, path):
    forms = _forms(strict.get(path).text)

    for marker, form in forms.items():
        assert "csrfmiddlewaretoken" not in form, marker


@pytest.mark.parametrize("path", ["/requests/new/", "/contact/", "/register/", "/preferences/"])
def test_forms_with_personal_data_still_demand_djangos_token(demo_policy, strict, path):
    """Same-origin headers are no substitute there: the token stays the check."""
    page = strict.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, f"{path} has no token in its form"
    same_origin = {"Sec-Fetch-Site": "same-origin", "Origin": OWN}

    without = strict.post(path, {"email": "alice@example.com"}, headers=same_origin)
    with_token = strict.post(
        path, {"email": "alice@example.com", "csrfmiddlewaretoken": token.group(1)}
    )

    assert without.status_code == HTTPStatus.FORBIDDEN
    assert "This page has expired" in without.text
    assert with_token.status_code != HTTPStatus.FORBIDDEN
