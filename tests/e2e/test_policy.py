"""The policy page in a real Chromium: every seed heading, working contents links, and
screenshots at phone and desktop widths saved as test artifacts."""

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.conftest import SEED_HEADINGS

pytestmark = pytest.mark.e2e


@pytest.fixture
def policy_page(page: Page, live_server, live_demo_policy) -> Page:
    page.goto(f"{live_server.url}/privacy/")
    return page


def test_policy_page_renders_every_seed_heading(policy_page: Page):
    for heading in SEED_HEADINGS:
        name = heading.format(company=settings.PORTAL_COMPANY_NAME)
        expect(policy_page.get_by_role("heading", level=2, name=name, exact=True)).to_be_visible()


def test_table_of_contents_links_jump_to_their_sections(policy_page: Page):
    toc = policy_page.get_by_role("navigation", name="Contents")
    links = toc.get_by_role("link")
    expect(links).to_have_count(len(SEED_HEADINGS))

    for index in reversed(range(links.count())):  # bottom-up: each jump must scroll
        link = links.nth(index)
        title = link.inner_text()
        link.click()
        heading = policy_page.get_by_role("heading", level=2, name=title, exact=True)
        expect(heading).to_be_in_viewport()
        anchor = heading.get_attribute("id")
        assert policy_page.url.endswith(f"#{anchor}")


def test_keyboard_user_can_skip_to_the_content(policy_page: Page):
    policy_page.get_by_role("button", name="Reject all").click()  # the banner has focus first
    expect(policy_page.get_by_role("dialog")).to_be_hidden()
    policy_page.reload()
    policy_page.keyboard.press("Tab")
    skip = policy_page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    policy_page.keyboard.press("Enter")
    expect(policy_page.locator("main")).to_be_focused()


@pytest.mark.parametrize(("width", "height"), [(360, 740), (1280, 800)])
def test_policy_page_fits_the_screen_and_is_captured(
    policy_page: Page, artifacts_dir, width: int, height: int
):
    policy_page.set_viewport_size({"width": width, "height": height})

    overflow = policy_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
    for landmark in ["banner", "main", "contentinfo"]:
        expect(policy_page.get_by_role(landmark)).to_have_count(1)

    path = artifacts_dir / f"privacy-policy-{width}px.png"
    policy_page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/", "home"),
        ("/privacy/history/", "history"),
        ("/privacy/v/2/diff/", "diff"),
        ("/privacy/v/99/", "not-found"),
    ],
)
def test_other_pages_fit_a_phone_screen(
    page: Page, live_server, live_demo_policy, artifacts_dir, path: str, name: str
):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}{path}")

    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"
    expect(page.get_by_role("main")).to_have_count(1)
    page.screenshot(path=artifacts_dir / f"{name}-360px.png", full_page=True)
