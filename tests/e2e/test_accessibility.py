"""Accessibility in a real Chromium: axe-core finds nothing at WCAG 2.2 AA on any page.

Every public page is walked from the URL resolver (`public_paths()`), so a new page is
checked the day it is added. Pages opened from mailed links are checked twice: with a real
token made through the flow that mails it, and with a forged one (the error page). The
error pages (a forged link's 400, 403, 404, 429, 500, 503) and forms showing their errors
are checked too. The cookie banner is checked in both layers (first layer, Customise opened),
reopened after a decision, and inline on /cookies/; then keyboard focus, reduced motion
and contrast.

axe-core is the copy shipped inside the `axe-playwright-python` package (the `test` extra):
nothing is fetched at run time. Playwright evaluates it through the DevTools protocol,
which the page's CSP does not govern, so the pages keep their strict CSP for the whole run
(no `bypass_csp`).
"""

import re
from http import HTTPStatus

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client, RequestFactory
from playwright.sync_api import Page, expect

from tests.helpers import (
    FLOW_PAGES,
    NO_PAGE_WITH_A_VALID_TOKEN,
    NOT_PAGES,
    public_paths,
    token_pages,
)

pytestmark = pytest.mark.e2e

# WCAG 2.0, 2.1 and 2.2 at levels A and AA, plus axe's best practices (landmarks, one h1...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": AXE_TAGS},
    "resultTypes": ["violations", "incomplete"],
}
AXE = Axe()

# --- Checking a page ---------------------------------------------------------------------


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" [{violation['helpUrl'].split('?')[0]}]"
        )
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
            lines.append(f"      {node['html'][:200]}")
    return "\n".join(lines)


# The colours behind an element that overlays the page: its own, or its nearest ancestor's
# opaque background (null where a background image makes the answer unknowable).
OWN_COLOURS = """selector => {
  const element = document.querySelector(selector);
  for (let node = element; node; node = node.parentElement) {
    const style = getComputedStyle(node);
    if (style.backgroundImage !== "none") return null;
    const alpha = style.backgroundColor.match(/[\\d.]+/g).slice(3).map(Number)[0] ?? 1;
    if (alpha === 1) return [getComputedStyle(element).color, style.backgroundColor];
  }
  return [getComputedStyle(element).color, "rgb(255, 255, 255)"];
}"""


def _decide(page: Page, rule: dict) -> dict | None:
    """What stays a problem of a rule axe could not decide. axe leaves a text's contrast
    undecided when the text sits in an overlay (the fixed banner) whose lines lie over
    different page content ("elmPartiallyObscuring"); the overlay's own opaque background
    is then what the text is read against, so those nodes are decided here. Every other
    undecided node (a broken ARIA reference, say) stays a problem."""
    nodes = []
    for node in rule["nodes"]:
        data = (
            ((node["any"] or [{}])[0].get("data") or {}) if rule["id"] == "color-contrast" else {}
        )
        if data.get("messageKey") == "elmPartiallyObscuring" and len(node["target"]) == 1:
            colours = page.evaluate(OWN_COLOURS, node["target"][0])
            expected = float(data["expectedContrastRatio"].split(":")[0])
            if colours and contrast(*colours) >= expected:
                continue
        nodes.append(node)
    return {**rule, "nodes": nodes} if nodes else None


def assert_accessible(page: Page, what: str, *, context: str | None = None) -> dict:
    """Run axe on the page (or the part `context` selects) and fail with a readable list of
    every violation, and of everything axe could not decide (unless decided above): so
    contrast, among others, is never silently left unchecked."""
    results = AXE.run(page, context=context, options=AXE_OPTIONS).response
    assert results["testEngine"]["version"].startswith("4.")
    checked = {r["id"] for key in ("violations", "incomplete", "passes") for r in results[key]}
    assert "color-contrast" in checked, "axe's colour-contrast rule checked nothing"
    undecided = [_decide(page, rule) for rule in results["incomplete"]]
    problems = results["violations"] + [rule for rule in undecided if rule]
    assert not problems, f"axe found accessibility problems on {what}:\n{_describe(problems)}"
    return results


def _dismiss_banner(page: Page) -> None:
    """Decide (Reject all) so the fixed banner covers nothing the page check should see."""
    reject = page.locator("[data-consent-banner]").get_by_role("button", name="Reject all")
    if reject.is_visible():
        reject.click()
        expect(page.get_by_role("dialog")).to_be_hidden()


def test_the_check_reports_what_axe_finds(page: Page, site):
    """The check fails, naming the rule and the element, on a page with known problems:
    an image without a text alternative, pale text, a reference to a missing element."""
    broken = (
        '<!doctype html><html lang="en"><head><title>Broken</title></head><body><main>'
        '<h1>Broken</h1><img src="/static/none.png"><p style="color:#bbb">Pale text</p>'
        '<input type="checkbox" id="box" aria-describedby="gone"><label for="box">Box</label>'
        "</main></body></html>"
    )
    page.route(
        f"{site}/broken/", lambda route: route.fulfill(body=broken, content_type="text/html")
    )
    page.goto(f"{site}/broken/")

    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, "a broken page")

    report = str(failure.value)
    for rule in ["image-alt", "color-contrast", "aria-valid-attr-value"]:
        assert f"- {rule} (" in report
    assert "<img src=" in report


# --- Pages opened from mailed links, with real tokens ---------------------------------------


def _pages_without_data() -> dict[str, str]:
    """Every public page a visitor opens without an e-mailed link, and every page opened
    from one with a forged token (the error page), plus a missing page (404)."""
    from_mails = token_pages()
    paths = {
        name: path
        for name, path in public_paths(number=2).items()
        if name not in NOT_PAGES and (name in from_mails or name not in FLOW_PAGES)
    }
    paths["registration:parent (no session)"] = "/register/parent/"  # redirected
    paths["privacy_portal:policy-version (first)"] = public_paths(number=1)[
        "privacy_portal:policy-version"
    ]
    paths["404"] = "/privacy/v/99/"
    return paths


def test_every_page_from_a_mailed_link_is_checked_with_a_real_token():
    missing = token_pages() - FLOW_PAGES.keys() - NO_PAGE_WITH_A_VALID_TOKEN
    assert not missing, f"add a flow that mails a real link to FLOW_PAGES for: {missing}"


@pytest.fixture
def site(live_server, live_demo_policy) -> str:
    """The live portal with its demo content and its register of processing, which pages
    show beside each form (a transactional test's flush removed the migrated rows)."""
    from requests_app.models import ProcessingPurpose
    from requests_app.register import register_seed

    register_seed(ProcessingPurpose)
    return live_server.url


def _open_as(page: Page, client: Client, url: str) -> None:
    """Give the browser the Django test client's cookies (its session), then open `url`."""
    cookies = [
        {"name": key, "value": item.value, "url": url} for key, item in client.cookies.items()
    ]
    if cookies:
        page.context.add_cookies(cookies)
    page.goto(url)


def test_every_public_page_passes_axe(page: Page, site):
    """One walk through every page with the banner decided (it is checked on its own
    below), so axe sees each page whole; every page's problems are listed together."""
    page.goto(f"{site}/")
    _dismiss_banner(page)
    failures = []
    for name, path in _pages_without_data().items():
        page.goto(f"{site}{path}")
        assert page.title(), f"{path} has no title"
        try:
            assert_accessible(page, f"{name} ({page.url.removeprefix(site)})")
        except AssertionError as problem:
            failures.append(str(problem).split("\nassert ")[0])
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("name", FLOW_PAGES)
def test_pages_opened_from_mailed_links_pass_axe(page: Page, site, deliver, name: str):
    """Each page with a real token, made through the flow that mails the link; then its
    form sent as it stands (untouched, the browser's own checks off), and the answer
    checked too: an error shown beside a field, or the page that confirms the step."""
    client = Client()
    path = FLOW_PAGES[name](client, deliver)
    _open_as(page, client, f"{site}{path}")
    expect(page).not_to_have_title(re.compile("not valid|expired|not found", re.IGNORECASE))
    _dismiss_banner(page)
    assert_accessible(page, f"{name} ({path})")

    form = page.locator("main form").first
    if form.count():
        form.evaluate("form => { form.noValidate = true; }")
        form.locator("button:not([type]), button[type=submit]").first.click()
        page.wait_for_load_state()
        assert_accessible(page, f"{name} once its form is sent ({page.url.removeprefix(site)})")


def test_the_pages_left_out_answer_no_html_page(site):
    paths = public_paths()
    for name in NOT_PAGES.keys() & paths.keys():
        response = Client().get(paths[name])
        assert not response.get("Content-Type", "").startswith("text/html") or not (
            response.content.strip()
        ), f"{name} answers an HTML page: check it with axe"


# --- Error pages and forms showing their errors --------------------------------------------


def test_the_csrf_failure_page_passes_axe(page: Page, site):
    page.goto(f"{site}/contact/")
    _dismiss_banner(page)
    page.context.clear_cookies()  # an expired page: the form's CSRF cookie is gone
    with page.expect_response(re.compile(r"/contact/$")) as answer:
        page.locator("main form").evaluate("form => form.submit()")
    assert answer.value.status == HTTPStatus.FORBIDDEN
    # The response can arrive before the browser has swapped the page: wait for the new one.
    page.get_by_role("heading", name="Access denied").wait_for()
    page.wait_for_load_state("load")
    assert_accessible(page, "the 403 (CSRF failure) page")


def test_the_too_many_requests_page_passes_axe(page: Page, site, settings):
    settings.RATE_LIMIT_TOKEN_PER_MINUTE = 0
    response = page.goto(f"{site}/preferences/not-a-real-token/")
    assert response.status == HTTPStatus.TOO_MANY_REQUESTS
    _dismiss_banner(page)
    assert_accessible(page, "the 429 page")


def _handler500_page(error: Exception) -> bytes:
    """What the project's handler500 answers while `error` is being handled."""
    from privacy_portal.middleware import server_error

    try:
        raise error
    except type(error):
        return server_error(RequestFactory().get("/")).content


def test_the_server_error_pages_pass_axe(page: Page, site):
    """No URL fails on purpose: the project's handler500 renders the 500 page (and the 503
    page for a database outage), and the browser receives each at a live-server address,
    so its stylesheet loads as in production."""
    from django.db import OperationalError

    pages = {
        "/broken-500/": (HTTPStatus.INTERNAL_SERVER_ERROR, _handler500_page(RuntimeError("boom"))),
        "/broken-503/": (
            HTTPStatus.SERVICE_UNAVAILABLE,
            _handler500_page(OperationalError("away")),
        ),
    }

    def serve(route):
        status, body = pages[route.request.url.removeprefix(site)]
        route.fulfill(status=status, body=body, content_type="text/html; charset=utf-8")

    page.route(re.compile(r"/broken-\d+/$"), serve)
    for path, (status, _body) in pages.items():
        assert page.goto(f"{site}{path}").status == status
        assert_accessible(page, f"the {int(status)} page")


def test_forms_showing_their_errors_pass_axe(page: Page, site):
    page.goto(f"{site}/")
    _dismiss_banner(page)
    for path in ["/requests/new/", "/register/", "/contact/", "/preferences/"]:
        page.goto(f"{site}{path}")
        # The browser's own checks would stop an empty form; the server's errors are wanted.
        page.locator("main form").evaluate(
            "form => { form.noValidate = true; form.requestSubmit(); }"
        )
        expect(page.locator(".errors").first).to_be_visible()
        assert_accessible(page, f"{path} with its errors")


# --- The cookie banner --------------------------------------------------------------------

BANNER = "[data-consent-banner]"


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (360, 740)])
def test_the_banners_first_layer_passes_axe(page: Page, site, width: int, height: int):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{site}/privacy/")
    expect(page.get_by_role("dialog")).to_be_visible()
    assert_accessible(page, f"the banner's first layer at {width}px", context=BANNER)


def test_the_banners_second_layer_passes_axe(page: Page, site):
    page.goto(f"{site}/privacy/")
    page.get_by_text("Customise").click()
    expect(page.get_by_role("switch", name="Analytics")).to_be_visible()
    assert_accessible(page, "the banner's second layer (Customise)", context=BANNER)


def test_the_banner_reopened_after_a_decision_passes_axe(page: Page, site):
    page.goto(f"{site}/privacy/")
    page.get_by_role("button", name="Accept all").click()
    page.get_by_role("link", name="Cookie settings").click()
    expect(page.get_by_role("button", name="Withdraw consent")).to_be_visible()
    assert_accessible(page, "the banner reopened from Cookie settings", context=BANNER)


def test_the_cookie_settings_page_passes_axe_with_the_banner_over_it(page: Page, site):
    page.goto(f"{site}/cookies/")
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.locator("#settings").get_by_role("switch", name="Analytics")).to_be_visible()
    assert_accessible(page, "/cookies/ with the banner and the inline settings")


# --- Focus, motion, contrast -----------------------------------------------------------------

FOCUS_STYLE = """element => {
  const style = getComputedStyle(element);
  return {
    outline: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth),
    outlineColor: style.outlineColor,
    boxShadow: style.boxShadow,
  };
}"""
ACTIVE = """() => {
  const element = document.activeElement;
  return {
    inBanner: !!element.closest("[data-consent-banner]"),
    name: (element.labels?.[0] || element).textContent.trim(),
  };
}"""


def _luminance(rgb: tuple[float, ...]) -> float:
    channels = [c / 255 for c in rgb[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """WCAG contrast ratio of two CSS colours as computed styles give them (rgb/rgba)."""
    first, second = (
        _luminance(tuple(float(x) for x in re.findall(r"[\d.]+", colour)[:3]))
        for colour in (one, other)
    )
    light, dark = max(first, second), min(first, second)
    return (light + 0.05) / (dark + 0.05)


def _indicator_colours(style: dict) -> list[str]:
    colours = re.findall(r"rgba?\([^)]*\)", style["boxShadow"])
    return ([style["outlineColor"]] if style["outline"] else []) + colours


def test_every_banner_control_shows_a_visible_focus_indicator(page: Page, site):
    """Tab through both layers of the banner: each control, once focused, draws an outline
    or ring (WCAG 2.4.7) that was not there before and stands out from the banner's
    background at 3:1 or more (1.4.11)."""
    page.goto(f"{site}/privacy/")
    background = page.locator(BANNER).evaluate("e => getComputedStyle(e).backgroundColor")
    visited = []
    for _ in range(20):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE)
        if not active["inBanner"]:
            break
        element = page.evaluate_handle("document.activeElement")
        focused = element.evaluate(FOCUS_STYLE)
        page.evaluate("document.activeElement.blur()")
        unfocused = element.evaluate(FOCUS_STYLE)
        element.focus()  # back where the keyboard left it
        visited.append(active["name"])

        assert focused["outline"] >= 2 or focused["boxShadow"] != "none", (
            f"{active['name']!r} shows no focus indicator: {focused}"
        )
        assert focused != unfocused, f"{active['name']!r} looks the same with and without focus"
        best = max(contrast(colour, background) for colour in _indicator_colours(focused))
        assert best >= 3, f"{active['name']!r}: focus indicator contrast {best:.2f}:1"
        if active["name"] == "Customise":
            page.keyboard.press("Enter")  # the second layer opens; keep tabbing through it

    assert visited == [
        "Cookie details",
        "Accept all",
        "Reject all",
        "Customise",
        "Preferences",
        "Analytics",
        "Marketing",
        "Save my choices",
    ]


OBSCURED = """([element, banner]) => {
  const box = element.getBoundingClientRect(), cover = banner.getBoundingClientRect();
  const top = Math.max(box.top, 0), bottom = Math.min(box.bottom, innerHeight);
  if (bottom <= top || box.right <= 0 || box.left >= innerWidth) return "off screen";
  const covered = top >= cover.top && bottom <= cover.bottom
    && box.left >= cover.left && box.right <= cover.right;
  return covered ? "under the banner" : "";
}"""


@pytest.mark.parametrize(
    ("width", "height", "layer"), [(1280, 800, "first"), (360, 740, "first"), (360, 740, "second")]
)
def test_the_open_banner_never_hides_the_focused_element(
    page: Page, site, width: int, height: int, layer: str
):
    """WCAG 2.2's Focus Not Obscured (2.4.11): while the banner is open at the foot of the
    window, tabbing through the page never puts the focused element entirely under it."""
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{site}/privacy/")
    expect(page.get_by_role("dialog")).to_be_visible()
    if layer == "second":
        page.get_by_text("Customise").click()
        expect(page.get_by_role("switch", name="Analytics")).to_be_visible()
    banner = page.locator(BANNER).element_handle()
    page.get_by_role("link", name="Skip to main content").focus()
    hidden = []
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(ACTIVE)["inBanner"]:
            break
        element = page.evaluate_handle("document.activeElement")
        where = page.evaluate(OBSCURED, [element, banner])
        if where:
            hidden.append(f"{element.evaluate('e => e.outerHTML')[:80]}: {where}")
    assert not hidden, "focused elements hidden:\n" + "\n".join(hidden)


# Motion such as a later banner might add: a fade and a transition, through the CSSOM
# (which the CSP allows), on the banner and its buttons.
ADD_MOTION = """() => {
  const sheet = document.styleSheets[0];
  sheet.insertRule("@keyframes probe-fade { from { opacity: 0 } }", sheet.cssRules.length);
  sheet.insertRule("[data-consent-banner], [data-consent-banner] button "
    + "{ transition: background-color .3s; animation: probe-fade .3s }", sheet.cssRules.length);
}"""
MOVING = """() => [document.documentElement, ...document.querySelectorAll("body *")]
  .flatMap(element => {
    const style = getComputedStyle(element);
    const durations = `${style.transitionDuration},${style.animationDuration}`.split(",");
    const moves = durations.some(d => parseFloat(d) > 0) || style.animationName !== "none"
      || style.scrollBehavior === "smooth";
    return moves ? [element.tagName + (element.id ? "#" + element.id : "")] : [];
  })"""


@pytest.mark.parametrize("preference", ["reduce", "no-preference"])
def test_reduced_motion_turns_off_every_transition_and_animation(page: Page, site, preference: str):
    """With reduced motion asked for, nothing on the page or in either banner layer moves,
    even motion added later; without it, the added motion shows (the check can see it)."""
    page.emulate_media(reduced_motion=preference)
    page.goto(f"{site}/privacy/")
    page.get_by_text("Customise").click()
    assert page.evaluate(f"matchMedia('(prefers-reduced-motion: {preference})').matches")
    page.evaluate(ADD_MOTION)

    moving = page.evaluate(MOVING)

    if preference == "reduce":
        assert moving == [], f"still moving with reduced motion: {moving}"
    else:
        assert "DIV#cc" in moving
