"""Policy Markdown is shown to every visitor: nothing in it may run."""

import datetime
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

    assert '<h2 id="first-foremost">' in rendered.html
    assert [(entry.id, entry.title) for entry in rendered.toc] == [
        ("first-foremost", "First & foremost"),
        ("second", "Second"),
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
