"""Security headers on every public page, and the cookies' attributes in production."""

import re
from http import HTTPStatus

import pytest
from django.test import Client

from tests.helpers import public_paths

# An inline style element or attribute, or a script element that would run its own text.
INLINE = re.compile(r"<style|\sstyle=|<script(?![^>]*\s(src|type=\"application/json\"))[^>]*>")

pytestmark = pytest.mark.django_db

PERMISSIONS_OFF = ["camera=()", "geolocation=()", "microphone=()", "browsing-topics=()"]


@pytest.fixture
def production_headers(settings):
    """What debug-off settings switch on (see test_settings for the defaults themselves)."""
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True


def test_public_paths_cover_the_pages_a_visitor_reaches():
    paths = public_paths()

    assert {"privacy_portal:policy", "consent:cookies", "requests_app:request-new"} <= set(paths)
    assert not any(path.startswith("/admin/") for path in paths.values())


@pytest.mark.parametrize("name", sorted(public_paths()))
def test_every_public_page_sends_the_security_headers(name, demo_policy, production_headers):
    response = Client().get(public_paths()[name], secure=True)

    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    csp = response.headers["Content-Security-Policy"]
    directives = {}
    for part in filter(None, (part.strip() for part in csp.split(";"))):
        name, _, value = part.partition(" ")
        directives[name] = value
    if response.headers["Content-Type"].startswith("text/html") and response.content:
        # Nothing inline: the page works under a policy that allows no inline style or
        # script, so it needs no per-response nonce either.
        assert not INLINE.search(response.text), INLINE.search(response.text).group(0)
        assert "'nonce-" not in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "googletagmanager" not in csp  # no analytics configured here
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    for feature in PERMISSIONS_OFF:
        assert feature in response.headers["Permissions-Policy"]


def test_production_cookies_are_secure_httponly_where_possible_and_same_site(
    demo_policy, production_headers
):
    client = Client()
    page = client.get("/requests/new/", secure=True)
    csrf = page.cookies["csrftoken"]
    decided = client.post(
        "/consent/", {"action": "reject_all", "scope": "prompt", "next": "/"}, secure=True
    )
    consent = decided.cookies["portal_consent"]

    assert csrf["secure"]
    assert csrf["samesite"] == "Lax"
    assert consent["secure"]
    assert consent["samesite"] == "Lax"
    assert consent["httponly"]


def test_the_csrf_cookie_is_out_of_reach_of_scripts(demo_policy):
    """Forms carry the token in a field (the banner and the language switch carry none:
    privacy_portal/origin.py), so no script needs the cookie, and an injected one cannot
    read it."""
    for path in ("/requests/new/", "/admin/login/"):
        cookie = Client().get(path).cookies["csrftoken"]

        assert cookie["httponly"], path
