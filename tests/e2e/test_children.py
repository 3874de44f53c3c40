"""A child's registration walked through a real browser, up to the parent's consent."""

import datetime
import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from consent.models import Registration

pytestmark = pytest.mark.e2e


def _date_years_ago(years: int) -> str:
    today = datetime.date.today()
    return today.replace(year=today.year - years, day=min(today.day, 28)).isoformat()


def test_a_childs_registration_through_the_parents_consent(
    page: Page, live_server, live_demo_policy, artifacts_dir
):
    page.goto(f"{live_server.url}/register/")
    page.get_by_role("button", name="Reject all").click()
    page.get_by_label("Your name").fill("Mia Schmidt")
    page.get_by_label("Your e-mail address").fill("mia@example.org")
    page.get_by_label("Country where you live").select_option("DE")
    page.get_by_label("Date of birth").fill(_date_years_ago(12))
    page.get_by_label("Product news").check()
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="One more step, Mia")).to_be_visible()
    page.get_by_label("Your parent's or guardian's e-mail address").fill("parent@example.org")
    page.get_by_role("button", name="Ask them").click()
    expect(page.get_by_role("heading", name="We asked your parent")).to_be_visible()

    pending = Registration.objects.get()
    assert (pending.name, pending.email, pending.interests) == ("Mia", "", [])
    request_mail = next(m for m in mail.outbox if m.to == ["parent@example.org"])
    link = re.search(r"http\S+/parental-consent/\S+", request_mail.body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", name="Mia would like to register")).to_be_visible()
    page.screenshot(path=artifacts_dir / "parental-consent.png", full_page=True)
    page.get_by_label("I am this child's parent or legal guardian.").check()
    page.get_by_role("button", name="I consent").click()

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    pending.refresh_from_db()
    assert pending.status == "active"
    assert any("You consented" in m.subject for m in mail.outbox)
