"""Pages every new visitor shares (privacy_portal/shared_pages.py): the same bytes for all
of them, public for a CDN, answered from this process's copy; private pages for visitors
with a decision or a session."""

from http import HTTPStatus

import pytest
from django.conf import settings
from django.test import Client, override_settings

from consent.models import CookieCategory
from privacy_portal.shared_pages import SHARED_PAGES, shared_pages_forget
from tests.consent.conftest import decide
from tests.helpers import public_paths

pytestmark = pytest.mark.django_db

SHARED = ["/", "/privacy/", "/privacy/history/", "/privacy/v/1/", "/privacy/v/2/diff/", "/cookies/"]
# Headers that are the same for every new visitor (Date and the like are the server's).
SAME = [
    "Content-Type",
    "Content-Language",
    "Content-Security-Policy",
    "Cache-Control",
    "Vary",
    "ETag",
]


def visitor(number: int, **headers) -> Client:
    """A new browser: its own address and user agent, no cookies."""
    return Client(
        enforce_csrf_checks=True,
        REMOTE_ADDR=f"203.0.113.{number}",
        HTTP_USER_AGENT=f"Browser {number}",
        headers=headers,
    )


@pytest.mark.parametrize("path", SHARED)
@pytest.mark.parametrize("language", ["en", "de"])
def test_two_new_visitors_get_the_same_bytes(demo_policy, path, language):
    first = visitor(1, accept_language=language).get(path)
    shared_pages_forget()  # rendered again for the second visitor, not copied
    second = visitor(2, accept_language=language).get(path)

    assert first.status_code == second.status_code == HTTPStatus.OK
    assert first.content == second.content
    for header in SAME:
        assert first.headers[header] == second.headers[header], header
    assert first.headers["Content-Language"] == language
    assert "Set-Cookie" not in first.headers
    assert "csrfmiddlewaretoken" not in first.text
    assert "nonce" not in first.text
    assert "nonce" not in first.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", SHARED)
def test_a_shared_page_is_public_for_a_short_while_and_varies_on_what_changes_it(demo_policy, path):
    response = visitor(1).get(path)

    assert response.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    vary = {v.strip().lower() for v in response.headers["Vary"].split(",")}
    assert {"cookie", "accept-language", "sec-gpc"} <= vary


def test_the_gpc_signal_gets_its_own_copy(demo_policy):
    plain = visitor(1).get("/privacy/")
    gpc = visitor(2, sec_gpc="1").get("/privacy/")
    plain_again = visitor(3).get("/privacy/")

    assert "Global Privacy Control" not in plain.text
    assert "Global Privacy Control" in gpc.text
    assert plain_again.content == plain.content


def test_no_shared_page_reads_the_visitor(demo_policy):
    """Whatever page answers `public` must not have read the visitor's user, messages,
    session or CSRF token: another visitor will be shown it."""
    trap = "tests.privacy_portal.visitor_trap.VisitorTrapMiddleware"
    reads = {}
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, trap]):
        for path in public_paths().values():
            response = visitor(1).get(path)
            if "public" in response.get("Cache-Control", ""):
                reads[path] = response.wsgi_request.visitor_reads

    assert len(reads) == len(SHARED)
    assert {path: read for path, read in reads.items() if read} == {}


def test_the_shared_pages_are_the_ones_without_personal_data_forms(demo_policy):
    shared = {
        path
        for path in public_paths().values()
        if "public" in visitor(1).get(path).get("Cache-Control", "")
    }

    assert shared == {
        "/",
        "/privacy/",
        "/privacy/history/",
        "/privacy/v/1/",
        "/privacy/v/1/diff/",
        "/cookies/",
    }


def test_a_visitor_with_a_decision_gets_a_private_page_of_their_own(client, demo_policy):
    shared = visitor(1).get("/privacy/")
    decide(client, action="reject_all")

    own = client.get("/privacy/")

    assert own.headers["Cache-Control"] == "private, no-cache"
    assert own.content != shared.content
    assert "data-consent-banner hidden" in own.text
    assert "data-consent-banner hidden" not in shared.text


def test_a_visitor_with_a_session_gets_a_private_page(demo_policy):
    client = visitor(1)
    client.cookies[settings.SESSION_COOKIE_NAME] = "a-session"

    response = client.get("/privacy/")

    assert response.headers["Cache-Control"] == "private, no-cache"


def test_the_next_new_visitor_is_answered_from_the_copy(demo_policy, django_assert_num_queries):
    first = visitor(1).get("/privacy/")

    with django_assert_num_queries(0):
        again = visitor(2).get("/privacy/")
        not_modified = visitor(3).get("/privacy/", headers={"If-None-Match": first.headers["ETag"]})

    assert again.content == first.content
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert again.headers["X-Frame-Options"] == "DENY"
    assert not_modified.status_code == HTTPStatus.NOT_MODIFIED
    assert not_modified.content == b""


def test_a_host_outside_the_allowed_hosts_is_refused_even_with_a_copy(demo_policy):
    visitor(1).get("/privacy/")

    response = visitor(2).get("/privacy/", HTTP_HOST="evil.example")

    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_a_change_to_the_declarations_drops_the_copies(demo_policy, admin_client):
    assert "Statistics we count" not in visitor(1).get("/cookies/").text
    analytics = CookieCategory.objects.get(slug="analytics")
    response = admin_client.post(
        f"/admin/consent/cookiecategory/{analytics.pk}/change/",
        {
            "slug": "analytics",
            "name": "Statistics we count",
            "description": analytics.description,
            "order": analytics.order,
            "cookies-TOTAL_FORMS": "0",
            "cookies-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == HTTPStatus.FOUND, response.context["errors"]

    assert "Statistics we count" in visitor(2).get("/cookies/").text


def test_this_process_keeps_a_bounded_number_of_copies(demo_policy):
    for number in range(SHARED_PAGES + 20):
        visitor(1).get(f"/privacy/?from={number}")

    from privacy_portal import shared_pages

    assert len(shared_pages._pages) == SHARED_PAGES


def test_a_form_on_a_shared_page_returns_to_its_own_address(demo_policy):
    page = visitor(1).get("/privacy/?from=mail").text

    assert '<input type="hidden" name="next" value="/privacy/?from=mail">' in page


def test_the_copy_keeps_the_security_headers_and_plain_http_is_still_redirected(
    demo_policy, settings
):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    visitor(1).get("/privacy/", secure=True)

    copy = visitor(2).get("/privacy/", secure=True)
    plain = visitor(3).get("/privacy/")

    assert copy.status_code == HTTPStatus.OK
    assert copy.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert copy.headers["X-Content-Type-Options"] == "nosniff"
    assert plain.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert plain.headers["Location"] == "https://testserver/privacy/"
