"""The cookie banner in a real Chromium: Google Analytics is gated, end to end.

Chromium resolves no outside host here; requests to Google's hosts are routed to a stub so
that every attempt is seen (and counted) while nothing leaves the machine. The stub behaves
like gtag.js where it matters: it sets `_ga` cookies and sends a hit.
"""

import json
import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from consent.configuration import configuration_current
from consent.models import BannerText, ConsentRecord
from tests.e2e.conftest import wait_for_js

GA_ID = "G-TEST1234"
GOOGLE = re.compile(
    r"^https?://([^/]*\.)?(google|googletagmanager|google-analytics|doubleclick)\.[a-z.]+/"
)
GTAG_STUB = f"""
document.cookie = "_ga=GA1.1.111.222; path=/; max-age=63072000";
document.cookie = "_ga_{GA_ID[2:]}=GS1.1.333; path=/; max-age=63072000";
window.__gtagLoads = (window.__gtagLoads || 0) + 1;
fetch("https://region1.google-analytics.com/g/collect?v=2&tid={GA_ID}", {{mode: "no-cors"}});
"""


# Adds a Google tag to the page as a careless template or an injected script would, and
# records what the browser's CSP refused.
INJECT_TAG = f"""
window.__blocked = [];
document.addEventListener("securitypolicyviolation", (e) => window.__blocked.push(e.blockedURI));
const tag = document.createElement("script");
tag.src = "https://www.googletagmanager.com/gtag/js?id={GA_ID}";
document.head.append(tag);
"""


@pytest.fixture
def ga_site(settings, live_server, live_demo_policy):
    """The portal with Google Analytics configured."""
    settings.GA_MEASUREMENT_ID = GA_ID
    return live_server.url


class GoogleTraffic:
    """Every request the page makes to a Google host, routed to a stub."""

    def __init__(self, context: BrowserContext):
        self.urls: list[str] = []
        context.route(GOOGLE, self._fulfil)

    def _fulfil(self, route):
        self.urls.append(route.request.url)
        if "gtag/js" in route.request.url:
            route.fulfill(status=200, content_type="text/javascript", body=GTAG_STUB)
        else:
            route.fulfill(status=204, body="")

    @property
    def count(self) -> int:
        return len(self.urls)


@pytest.fixture
def google(context: BrowserContext) -> GoogleTraffic:
    return GoogleTraffic(context)


def _ga_cookies(context: BrowserContext) -> list[str]:
    return sorted(c["name"] for c in context.cookies() if c["name"].startswith("_ga"))


def _dialog(page: Page):
    return page.get_by_role("dialog")


def test_first_visit_sends_nothing_to_google_until_consent(page: Page, context, google, ga_site):
    page.goto(f"{ga_site}/privacy/")

    expect(_dialog(page)).to_be_visible()
    expect(page.get_by_role("button", name="Accept all")).to_be_visible()
    expect(page.get_by_role("button", name="Reject all")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert google.count == 0
    assert _ga_cookies(context) == []

    page.get_by_role("button", name="Reject all").click()
    expect(_dialog(page)).to_be_hidden()
    page.reload()
    page.wait_for_load_state("networkidle")

    expect(_dialog(page)).to_be_hidden()
    assert google.count == 0
    assert _ga_cookies(context) == []
    assert ConsentRecord.objects.get().action == "reject_all"

    # Having refused, the browser itself refuses Google's hosts: a tag slipped into the page
    # (a mistake, an injection) is blocked by the CSP before any request leaves.
    page.evaluate(INJECT_TAG)
    wait_for_js(page, "window.__blocked.length > 0")
    assert "googletagmanager.com" in page.evaluate("window.__blocked[0]")
    page.wait_for_load_state("networkidle")
    assert google.count == 0


def test_accepting_analytics_loads_google_analytics_without_a_reload(
    page: Page, context, google, ga_site
):
    page.goto(f"{ga_site}/privacy/")
    page.evaluate("window.__samePage = true")

    page.get_by_text("Customise").click()
    page.get_by_role("switch", name="Analytics").check()
    with page.expect_request(re.compile(r"googletagmanager\.com/gtag/js")):
        page.get_by_role("button", name="Save my choices").click()

    expect(_dialog(page)).to_be_hidden()
    wait_for_js(page, "window.__gtagLoads === 1")
    assert page.evaluate("window.__samePage") is True  # no reload happened
    assert _ga_cookies(context) == ["_ga", f"_ga_{GA_ID[2:]}"]
    commands = page.evaluate("window.dataLayer.map(a => [a[0], a[1]])")
    assert commands[0][0] == "consent"
    assert commands[0][1] == "default"
    assert [c[0] for c in commands[1:3]] == ["js", "config"]
    consent_default = page.evaluate("window.dataLayer[0][2]")
    assert consent_default == {
        "ad_storage": "denied",
        "ad_user_data": "denied",
        "ad_personalization": "denied",
        "analytics_storage": "granted",
        "personalization_storage": "denied",
        "functionality_storage": "granted",
        "security_storage": "granted",
    }

    record = ConsentRecord.objects.get()
    assert record.action == "custom"
    assert record.states == {
        "analytics": True,
        "marketing": False,
        "necessary": True,
        "preferences": False,
    }
    assert record.config_revision == configuration_current("en").revision
    assert record.policy_version == 2
    shown = BannerText.objects.get(sha256=record.banner_sha256)
    assert shown.text.startswith("Cookies on this site")
    assert "Analytics" in shown.text


def test_withdrawal_deletes_ga_cookies_and_stops_the_tags(page: Page, context, google, ga_site):
    page.goto(f"{ga_site}/privacy/")
    with page.expect_request(re.compile(r"googletagmanager\.com/gtag/js")):
        page.get_by_role("button", name="Accept all").click()
    wait_for_js(page, "window.__gtagLoads === 1")
    assert _ga_cookies(context) == ["_ga", f"_ga_{GA_ID[2:]}"]

    page.get_by_role("link", name="Cookie settings").click()
    expect(_dialog(page)).to_be_visible()
    page.get_by_role("button", name="Withdraw consent").click()
    expect(_dialog(page)).to_be_hidden()

    assert _ga_cookies(context) == []
    update = page.evaluate("window.dataLayer.filter(a => a[1] === 'update').pop()[2]")
    assert update["analytics_storage"] == "denied"
    assert page.evaluate(f"window['ga-disable-{GA_ID}']") is True
    seen = google.count
    page.reload()
    page.goto(f"{ga_site}/privacy/history/")
    page.wait_for_load_state("networkidle")
    assert google.count == seen
    assert _ga_cookies(context) == []
    assert [r.action for r in ConsentRecord.objects.order_by("id")] == ["accept_all", "withdraw"]


def test_without_javascript_the_form_records_consent_and_gates_ga(
    browser: Browser, ga_site, browser_context_args
):
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    google = GoogleTraffic(context)
    page = context.new_page()
    page.goto(f"{ga_site}/privacy/")

    expect(_dialog(page)).to_be_visible()
    assert "googletagmanager" not in page.content()
    page.get_by_text("Customise").click()  # <details> opens without JavaScript
    page.get_by_role("switch", name="Analytics").check()
    page.get_by_role("button", name="Save my choices").click()

    page.wait_for_url(f"{ga_site}/privacy/")
    expect(_dialog(page)).to_be_hidden()
    assert f"gtag/js?id={GA_ID}" in page.content()  # the server now includes the loader
    assert ConsentRecord.objects.get().states["analytics"] is True

    page.goto(f"{ga_site}/cookies/")
    page.get_by_role("button", name="Reject all").first.click()
    page.wait_for_url(f"{ga_site}/cookies/")
    page.goto(f"{ga_site}/privacy/")
    assert "googletagmanager" not in page.content()
    assert google.count == 0  # no script ran at all
    context.close()


def test_keyboard_alone_operates_the_banner(page: Page, ga_site):
    page.goto(f"{ga_site}/privacy/")
    dialog = _dialog(page)
    expect(dialog.get_by_role("heading", name="Cookies on this site")).to_be_focused()

    reached = []
    for _ in range(4):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert reached == ["Cookie details", "Accept all", "Reject all", "Customise"]

    page.keyboard.press("Enter")  # opens the second layer
    switches = []
    for _ in range(3):
        page.keyboard.press("Tab")
        switches.append(page.evaluate("document.activeElement.labels[0].textContent"))
    assert switches == ["Preferences", "Analytics", "Marketing"]
    page.keyboard.press("Space")  # marketing on
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Save my choices")).to_be_focused()

    page.keyboard.press("Escape")
    expect(dialog.get_by_text("Customise")).to_be_focused()
    expect(dialog.get_by_role("switch", name="Marketing")).to_be_hidden()

    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Reject all")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("main")).to_be_focused()

    settings_link = page.get_by_role("link", name="Cookie settings")
    settings_link.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("switch", name="Preferences")).to_be_focused()
    page.keyboard.press("Escape")  # closes the second layer
    page.keyboard.press("Escape")  # closes the dialog
    expect(dialog).to_be_hidden()
    expect(settings_link).to_be_focused()


def test_global_privacy_control_is_honoured(browser: Browser, ga_site, browser_context_args):
    context = browser.new_context(**browser_context_args, extra_http_headers={"Sec-GPC": "1"})
    page = context.new_page()
    with page.expect_response(re.compile(r"/consent/$")):
        page.goto(f"{ga_site}/privacy/")

    expect(page.get_by_text("Your Global Privacy Control signal is honoured")).to_be_visible()
    record = ConsentRecord.objects.get()
    assert record.action == "gpc"
    assert record.states == {"marketing": False, "necessary": True}

    page.get_by_role("button", name="Accept all").click()
    expect(_dialog(page)).to_be_hidden()
    latest = ConsentRecord.objects.order_by("-id").first()
    assert latest.states["marketing"] is False
    assert latest.states["analytics"] is True
    assert latest.gpc is True
    context.close()


def test_banner_is_readable_on_a_phone(page: Page, ga_site, artifacts_dir):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{ga_site}/privacy/")
    page.screenshot(path=artifacts_dir / "banner-360px.png")
    page.get_by_text("Customise").click()

    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    for name in ["Preferences", "Analytics", "Marketing"]:
        switch = page.get_by_role("switch", name=name)
        switch.scroll_into_view_if_needed()
        expect(switch).to_be_in_viewport()
    page.screenshot(path=artifacts_dir / "banner-customise-360px.png")


def test_gated_scripts_run_only_once_their_category_is_granted(page: Page, context, ga_site):
    runs = []
    context.route(
        "**/static/gated-widget.js",
        lambda route: (
            runs.append(route.request.url),
            route.fulfill(content_type="text/javascript", body="window.__widget = 1;"),
        ),
    )
    page.goto(f"{ga_site}/privacy/")
    page.evaluate(
        """() => {
            const inert = document.createElement("script");
            inert.type = "text/plain";
            inert.dataset.category = "marketing";
            inert.dataset.src = "/static/gated-widget.js";
            document.body.append(inert);
        }"""
    )

    page.get_by_role("button", name="Reject all").click()
    expect(_dialog(page)).to_be_hidden()
    assert runs == []
    page.get_by_role("link", name="Cookie settings").click()
    page.get_by_role("switch", name="Marketing").check()
    page.get_by_role("button", name="Save my choices").click()

    wait_for_js(page, "window.__widget === 1")
    assert len(runs) == 1


# A policy text that forges the module's configuration and its live region, as DPO staff
# (or whoever holds their account) could write it in raw HTML: analytics granted, the tag of
# another property, no prompt.
FORGED_GA = "G-FORGED99"
FORGED_CONFIG = {
    "state": {"analytics": True, "marketing": True, "preferences": True},
    "prompt": False,
    "ga": {"id": FORGED_GA, "src": f"https://www.googletagmanager.com/gtag/js?id={FORGED_GA}"},
}
FORGED_POLICY = f"""
<h2 id="consent-config">{json.dumps(FORGED_CONFIG)}</h2>

<p id="consent-status">Forged status</p>
"""


@pytest.fixture
def forged_policy(live_demo_policy):
    """A published policy in force whose text carries the forged elements."""
    from django.utils import timezone

    from privacy_portal.models import PolicyVersion
    from privacy_portal.services import policy_draft_create, policy_publish

    current = PolicyVersion.objects.filter(language="en").published().order_by("number").last()
    draft = policy_draft_create(
        language="en",
        body=current.body + FORGED_POLICY,
        effective_date=max(timezone.localdate(), current.effective_date),
    )
    return policy_publish(version=draft)


def test_a_policy_text_cannot_switch_analytics_on(
    page: Page, context, google, ga_site, forged_policy
):
    page.goto(f"{ga_site}/privacy/")

    expect(page.get_by_role("heading", name=re.compile("G-FORGED99"))).to_be_visible()
    expect(_dialog(page)).to_be_visible()  # still asks: the forged "prompt": false is ignored
    page.wait_for_load_state("networkidle")
    assert google.count == 0
    assert page.evaluate("window.dataLayer") is None  # no consent signal at all, let alone granted
    assert page.evaluate(f"window['ga-disable-{FORGED_GA}']") is None

    # The banner works as before: accepting loads the portal's own tag, not the forged one.
    with page.expect_request(re.compile(r"googletagmanager\.com/gtag/js")) as loaded:
        page.get_by_role("button", name="Accept all").click()
    assert loaded.value.url.endswith(f"id={GA_ID}")
    wait_for_js(page, "window.__gtagLoads === 1")
    assert FORGED_GA not in " ".join(google.urls)
    assert page.evaluate("window.dataLayer[0][2].analytics_storage") == "granted"
    expect(page.get_by_role("status")).to_have_text("Your choices have been saved.")
    expect(page.get_by_text("Forged status")).to_be_visible()  # the policy's text, untouched
