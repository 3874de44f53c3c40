"""Another site's page cannot record a cookie decision or switch the language, in Chromium.

The banner's form and the language switch carry no CSRF token (their pages are shared by
every visitor); privacy_portal/origin.py refuses what another origin makes the browser
send. The portal runs on `localhost`, the attacker on `127.0.0.1`: two different sites, so
Chromium sends `Sec-Fetch-Site: cross-site` and the attacker's `Origin`, as it would for
any page on the web.
"""

import html
import logging
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, Page, expect

from consent.models import ConsentRecord
from tests.e2e.conftest import wait_for_js

CONSENT_COOKIE = "portal_consent"


def attacker_pages(portal: str) -> dict[str, str]:
    """The attacker's pages, each aimed at the portal as soon as it loads."""
    portal = html.escape(portal)
    return {
        # (a) A form posted by script the moment the page opens: a top-level navigation.
        "/form": f"""<!doctype html><title>Win a prize</title>
<form method="post" action="{portal}/consent/">
<input type="hidden" name="action" value="accept_all">
<input type="hidden" name="scope" value="prompt">
<input type="hidden" name="next" value="/">
</form>
<script>document.forms[0].submit()</script>""",
        # (b) A background request with the visitor's cookies; the answer is opaque to the
        # attacker, but a write would not need to be read.
        "/fetch": f"""<!doctype html><title>Cute cats</title>
<script>
fetch("{portal}/consent/", {{
  method: "POST",
  mode: "no-cors",
  credentials: "include",
  body: new URLSearchParams({{action: "accept_all", scope: "prompt", next: "/"}}),
}}).finally(() => (window.__done = true));
</script>""",
        # (c) The language switch, posted the same way as (a).
        "/language": f"""<!doctype html><title>Recipes</title>
<form method="post" action="{portal}/i18n/setlang/">
<input type="hidden" name="language" value="de">
<input type="hidden" name="next" value="/">
</form>
<script>document.forms[0].submit()</script>""",
    }


@pytest.fixture
def portal(live_server, live_demo_policy) -> str:
    assert live_server.url.startswith("http://localhost:")
    return live_server.url


@pytest.fixture
def attacker(portal) -> Iterator[str]:
    """Another site: a tiny server on 127.0.0.1 serving the attacker's pages."""
    pages = attacker_pages(portal)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(HTTPStatus.OK if body else HTTPStatus.NOT_FOUND)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # quiet: the test reports what matters
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def portal_cookies(context: BrowserContext, portal: str) -> dict[str, str]:
    """The visitor's choices as the portal's cookies hold them: consent and language."""
    kept = {CONSENT_COOKIE, settings.LANGUAGE_COOKIE_NAME}
    return {c["name"]: c["value"] for c in context.cookies(portal) if c["name"] in kept}


def attack(page: Page, portal: str, attacker: str) -> None:
    """Open each attacker page and check the portal saw its request and refused it."""
    for path, target in [("/form", "/consent/"), ("/fetch", "/consent/")]:
        with page.expect_response(f"{portal}{target}") as answer:
            page.goto(f"{attacker}{path}")
        assert answer.value.status == HTTPStatus.FORBIDDEN, path
        assert answer.value.request.method == "POST"
        if path == "/fetch":
            wait_for_js(page, "window.__done === true")
    with page.expect_response(f"{portal}/i18n/setlang/") as answer:
        page.goto(f"{attacker}/language")
    assert answer.value.status == HTTPStatus.FORBIDDEN


def test_another_site_cannot_record_consent_or_switch_the_language(
    page: Page, context: BrowserContext, portal, attacker, caplog
):
    page.goto(f"{portal}/privacy/")
    expect(page.get_by_role("dialog")).to_be_visible()
    before = portal_cookies(context, portal)
    assert before == {}

    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        attack(page, portal, attacker)

    assert ConsentRecord.objects.count() == 0
    # Refused for what Chromium itself says about where each request came from.
    refusals = [r.getMessage() for r in caplog.records if r.name == "django.security.csrf"]
    assert len(refusals) == 3
    assert all("Sec-Fetch-Site says" in refusal for refusal in refusals)
    assert portal_cookies(context, portal) == before
    # The visitor is still asked, and their own click on the portal's page counts, once.
    page.goto(f"{portal}/privacy/")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    with page.expect_response(f"{portal}/consent/") as answer:
        dialog.get_by_role("button", name="Reject all").click()
    assert answer.value.status == HTTPStatus.OK
    expect(dialog).to_be_hidden()
    assert list(ConsentRecord.objects.values_list("action", flat=True)) == ["reject_all"]

    # Once decided, another site's "accept all" still changes nothing: not the log, not the
    # visitor's cookie (which would otherwise say they had accepted).
    decided = portal_cookies(context, portal)
    assert CONSENT_COOKIE in decided
    attack(page, portal, attacker)

    assert list(ConsentRecord.objects.values_list("action", flat=True)) == ["reject_all"]
    assert portal_cookies(context, portal) == decided
    page.goto(f"{portal}/privacy/")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert page.locator("html").get_attribute("lang") == "en"


def test_the_sites_own_language_switch_still_works(page: Page, context, portal, attacker):
    with page.expect_response(f"{portal}/i18n/setlang/") as answer:
        page.goto(f"{attacker}/language")
    assert answer.value.status == HTTPStatus.FORBIDDEN
    assert portal_cookies(context, portal) == {}

    page.goto(f"{portal}/privacy/")
    page.get_by_label("Language").select_option("de")
    with page.expect_navigation():
        page.get_by_role("button", name="Switch").click()

    assert portal_cookies(context, portal)[settings.LANGUAGE_COOKIE_NAME] == "de"
    assert page.locator("html").get_attribute("lang") == "de"
