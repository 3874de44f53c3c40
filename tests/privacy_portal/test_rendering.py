"""Policy Markdown is shown to every visitor: nothing in it may run."""

import datetime
import re
from http import HTTPStatus

import pytest

from privacy_portal.rendering import render_policy
from privacy_portal.services import policy_draft_create, policy_publish

HOSTILE_MARKDOWN = """\
## Personal data

<script>alert("owned")</script>

[click me](javascript:alert(1)) and <a href="JaVaScRiPt:alert(2)">me</a>
and <a href="data:text/html;base64,PHNjcmlwdD4=">data</a>

<img src="x" onerror="alert(3)">
<p onclick="alert(4)" style="color:red">styled</p>
<iframe src="https://evil.test/"></iframe>

[safe link](https://example.com/) and [mail](mailto:dpo@example.com)
"""


@pytest.mark.django_db
def test_script_and_javascript_links_in_policy_markdown_are_not_rendered_live(client):
    draft = policy_draft_create(
        language="en", body=HOSTILE_MARKDOWN, effective_date=datetime.date(2026, 1, 1)
    )
    policy_publish(version=draft)

    response = client.get("/privacy/")

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    body = page.split('class="policy-body"', 1)[1].split('class="policy-footer"', 1)[0]
    lowered = body.lower()
    assert "<script" not in lowered
    assert "javascript:" not in lowered
    assert "data:text/html" not in lowered
    assert "onerror" not in lowered
    assert "onclick" not in lowered
    assert "style=" not in lowered
    assert "<iframe" not in lowered
    assert "<img" not in lowered
    assert '<a href="https://example.com/"' in body
    assert '<a href="mailto:dpo@example.com"' in body


def test_headings_get_anchors_and_a_table_of_contents():
    rendered = render_policy("## First & foremost\n\ntext\n\n### Detail\n\n## Second")

    assert '<h2 id="policy-first-foremost">' in rendered.html
    assert [(entry.id, entry.title) for entry in rendered.toc] == [
        ("policy-first-foremost", "First & foremost"),
        ("policy-second", "Second"),
    ]
    assert [child.title for child in rendered.toc[0].children] == ["Detail"]


def test_toc_titles_are_escaped_once_by_the_template(client, db):
    draft = policy_draft_create(
        language="en",
        body="## Terms & <b>conditions</b>\n\ntext",
        effective_date=datetime.date(2026, 1, 1),
    )
    policy_publish(version=draft)

    html = client.get("/privacy/").content.decode()

    assert "Terms &amp; conditions</a>" in html
    assert "&amp;amp;" not in html


# Raw HTML that names the cookie banner's elements: its module's configuration (by the id
# it used to be found by, and by the data attribute it is found by now), its live region,
# the banner itself, and an in-policy link.
FORGING_MARKDOWN = """\
## Personal data

See [the cookies section](#cookies) and <a href="#consent-config">this</a>.

<h2 id="consent-config">{"state": {"analytics": true}, "ga": {"id": "G-FORGED99"}}</h2>
<h3 id="cc" data-consent-banner>Banner</h3>
<h3 id="policy-x">Prefixed already</h3>
<p id="consent-status" data-consent-status role="status">Status</p>
<script type="application/json" data-consent-config>{"state": {"analytics": true}}</script>
<div data-consent-config>{"state": {"analytics": true}}</div>

## Cookies
"""


@pytest.mark.django_db
def test_policy_html_has_only_prefixed_ids_and_nothing_the_banner_module_reads(client):
    draft = policy_draft_create(
        language="en", body=FORGING_MARKDOWN, effective_date=datetime.date(2026, 1, 1)
    )
    policy_publish(version=draft)

    page = client.get("/privacy/").content.decode()

    body = page.split('class="policy-body"', 1)[1].split('class="policy-footer"', 1)[0]
    assert re.findall(r'\sid="([^"]*)"', body) == [
        "policy-personal-data",
        "policy-consent-config",
        "policy-cc",
        "policy-policy-x",
        "policy-cookies",
    ]
    assert "data-" not in body
    assert "role=" not in body
    assert "<script" not in body
    assert re.findall(r'href="(#[^"]*)"', body) == ["#policy-cookies", "#policy-consent-config"]
    toc = re.search(r'<nav class="toc".*?</nav>', page, re.S).group(0)
    assert re.findall(r'href="(#[^"]*)"', toc) == ["#policy-personal-data", "#policy-cookies"]
    # The page has the module's configuration and live region once each: the banner's own.
    assert page.count("data-consent-config") == 1
    assert page.count("data-consent-status") == 1
    assert page.index("data-consent-config") > page.index('class="policy-footer"')
    assert 'id="consent-config"' not in page
