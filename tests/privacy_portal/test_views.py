import datetime
import re
from html import unescape
from http import HTTPStatus

import pytest
from django.test import override_settings

from privacy_portal.models import PolicyVersion
from privacy_portal.services import policy_draft_create, policy_publish
from tests.conftest import SEED_HEADINGS
from tests.consent.conftest import decide
from tests.helpers import visible_text

pytestmark = pytest.mark.django_db


def _headings(html: str, level: int = 2) -> list[str]:
    pattern = rf"<h{level}[^>]*>(.*?)</h{level}>"
    return [unescape(re.sub(r"<[^>]+>", "", h)).strip() for h in re.findall(pattern, html, re.S)]


@override_settings(PORTAL_COMPANY_NAME="Acme Widgets", DPO_EMAIL="privacy@acme.test")
def test_policy_shows_every_seed_section_with_company_and_dpo_from_settings(client, demo_policy):
    response = client.get("/privacy/")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    expected = [h.format(company="Acme Widgets") for h in SEED_HEADINGS]
    body = html.split('class="policy-body"', 1)[1].split('class="policy-footer"', 1)[0]
    assert _headings(body) == expected
    assert "mailto:privacy@acme.test" in html
    shown = visible_text(html)
    assert "Unify" not in shown
    assert "atos" not in shown.lower()
    assert "archive" not in shown.lower()


def test_policy_has_table_of_contents_linking_to_heading_anchors(client, demo_policy):
    html = client.get("/privacy/").content.decode()

    toc = re.search(r'<nav class="toc".*?</nav>', html, re.S).group(0)
    targets = re.findall(r'href="#([^"]+)"', toc)
    assert len(targets) == len(SEED_HEADINGS)
    for target in targets:
        assert f'id="{target}"' in html


def test_policy_shows_version_and_last_updated(client, demo_policy):
    html = client.get("/privacy/").content.decode()

    assert "Version 2" in html
    assert 'datetime="2026-01-15"' in html
    assert PolicyVersion.objects.get(number=2).body_sha256 in html


def test_policy_in_force_ignores_drafts_and_future_versions(client, demo_policy):
    policy_draft_create(language="en", body="## Draft\n\nNot yet.", effective_date=None)
    html = client.get("/privacy/").content.decode()
    assert "Version 2" in html
    assert "Not yet." not in visible_text(html)

    future = PolicyVersion.objects.get(number=3)
    future.effective_date = datetime.date.today() + datetime.timedelta(days=30)
    future.save()
    policy_publish(version=future)
    html = client.get("/privacy/").content.decode()
    assert "Version 2" in html
    history = client.get("/privacy/history/").content.decode()
    assert "upcoming" in history


def test_history_lists_both_demo_versions_with_dates_and_summaries(client, demo_policy):
    response = client.get("/privacy/history/")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert 'href="/privacy/v/1/"' in html
    assert 'href="/privacy/v/2/"' in html
    assert 'datetime="2025-05-25"' in html
    assert 'datetime="2026-01-15"' in html
    assert "we answer requests within one month" in html
    assert 'href="/privacy/v/2/diff/"' in html


def test_old_version_is_readable_and_marked_as_kept_for_the_record(client, demo_policy):
    response = client.get("/privacy/v/1/")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Version 1" in html
    assert "kept for the record" in html
    assert "every access by our staff to personal data is recorded" not in visible_text(html)


def test_diff_shows_the_change_between_versions(client, demo_policy):
    response = client.get("/privacy/v/2/diff/")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    inserted = " ".join(re.findall(r"<ins>(.*?)</ins>", html, re.S))
    assert "every access by our staff to personal data is recorded" in inserted
    assert "within one month of receiving them" in inserted
    assert "2 sections changed." in html
    changed = [h.removesuffix("changed").strip() for h in _headings(html) if h.endswith("changed")]
    assert changed == ["Security", "Questions and Comments"]


def test_diff_of_first_version_says_there_is_nothing_to_compare(client, demo_policy):
    response = client.get("/privacy/v/1/diff/")

    assert response.status_code == HTTPStatus.OK
    assert "first published version" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/privacy/v/3/",
        "/privacy/v/0/",
        "/privacy/v/3/diff/",
        "/privacy/v/9999999999999999999999/",
        "/privacy/v/-1/",
        "/privacy/v/abc/",
    ],
)
def test_unknown_version_is_404(client, demo_policy, path):
    response = client.get(path)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Page not found" in response.content.decode()


def test_draft_version_is_not_public(client, demo_policy):
    policy_draft_create(language="en", body="## Secret draft")

    assert client.get("/privacy/v/3/").status_code == HTTPStatus.NOT_FOUND


def test_no_published_policy_is_a_clear_404(client, db):
    response = client.get("/privacy/")

    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("path", ["/privacy/", "/privacy/history/", "/privacy/v/2/diff/"])
def test_policy_pages_answer_304_to_a_repeated_conditional_get(client, demo_policy, path):
    first = client.get(path)
    etag = first.headers["ETag"]

    again = client.get(path, headers={"If-None-Match": etag})

    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert again.content == b""
    assert again.headers["ETag"] == etag
    # Browsers keep the page but ask again each time: a new version shows at once.
    assert "max-age=0" in first.headers["Cache-Control"]
    assert "Cookie" in first.headers["Vary"]


@pytest.mark.parametrize("path", ["/privacy/", "/privacy/history/", "/privacy/v/2/diff/"])
def test_a_decided_visitor_gets_304_for_a_page_they_hold(client, demo_policy, path):
    decide(client, action="reject_all")
    first = client.get(path)

    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert first.headers["Cache-Control"] == "private, no-cache"


def test_publishing_a_new_version_changes_the_etag(client, demo_policy):
    etag = client.get("/privacy/").headers["ETag"]
    draft = policy_draft_create(
        language="en", body="## Personal data\n\nNew words.", effective_date=datetime.date.today()
    )
    policy_publish(version=draft)

    response = client.get("/privacy/", headers={"If-None-Match": etag})

    assert response.status_code == HTTPStatus.OK
    assert "New words." in response.content.decode()


def test_warm_policy_page_costs_a_decided_visitor_no_query_but_its_version(
    client, demo_policy, django_assert_num_queries
):
    decide(client, action="reject_all")
    client.get("/privacy/")  # renders the Markdown and fills the caches
    client.get("/privacy/v/1/")

    with django_assert_num_queries(0):
        response = client.get("/privacy/")
    assert response.status_code == HTTPStatus.OK
    with django_assert_num_queries(1):  # the version asked for by number
        assert client.get("/privacy/v/1/").status_code == HTTPStatus.OK


def test_cold_policy_page_loads_the_body_once(client, demo_policy, django_assert_num_queries):
    client.get("/")  # caches the cookie configuration the banner needs

    with django_assert_num_queries(2):  # the version row, then its deferred body
        assert client.get("/privacy/").status_code == HTTPStatus.OK


def test_home_explains_the_portal_and_links_to_the_policy(client, db):
    response = client.get("/")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert 'href="/privacy/"' in html
    assert 'href="/privacy/history/"' in html
    assert "<main" in html
    assert 'aria-label="Main"' in html
    assert "<footer" in html


def test_pages_load_no_external_resources(client, demo_policy):
    for path in ["/", "/privacy/", "/privacy/history/", "/privacy/v/2/diff/"]:
        html = client.get(path).content.decode()
        loaded = re.findall(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="([^"]+)"', html)
        assert loaded
        local = [url for url in loaded if url.startswith("data:") or url.startswith("/")]
        assert local == loaded
        assert not any(url.startswith("//") for url in loaded)


def test_healthz_answers_200_with_the_database(client, db):
    response = client.get("/healthz")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_post_to_policy_page_is_405(client, demo_policy):
    assert client.post("/privacy/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
