"""Content Security Policy: nonces, never unsafe-inline, Google's hosts only when analytics
is configured and the visitor has not refused it."""

import pytest

from tests.conftest import run_manage
from tests.consent.conftest import decide, decide_json

pytestmark = pytest.mark.django_db


def test_every_page_has_a_csp_without_unsafe_inline_and_the_banner_needs_none(client, demo_policy):
    for path in ["/", "/privacy/", "/privacy/history/", "/cookies/", "/privacy/v/9/"]:
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in policy
        assert "'unsafe-eval'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert "'nonce-" not in policy  # nothing on the page needed one
        html = response.content.decode()
        assert "<style" not in html
        assert '<link rel="stylesheet" href="/static/consent/consent.css">' in html
        assert "googletagmanager" not in policy  # analytics is not configured in tests


GA_ID = "G-TEST1234"


def _google_in_policy(response) -> bool:
    policy = response.headers["Content-Security-Policy"]
    return "https://www.googletagmanager.com" in policy or "google-analytics.com" in policy


@pytest.mark.parametrize(
    ("decisions", "allowed"),
    [
        ([], True),  # undecided: accepting must load the tag at once
        (["accept_all"], True),
        (["custom:analytics"], True),
        (["custom:preferences"], False),
        (["reject_all"], False),
        (["accept_all", "withdraw"], False),
        (["reject_all", "accept_all"], True),
    ],
)
def test_google_hosts_are_in_the_policy_only_while_analytics_is_not_refused(
    client, demo_policy, settings, decisions, allowed
):
    settings.GA_MEASUREMENT_ID = GA_ID
    for decision in decisions:
        action, _, category = decision.partition(":")
        decide(client, action=action, categories=[category] if category else [], scope="all")

    for path in ["/privacy/", "/cookies/", "/"]:
        assert _google_in_policy(client.get(path)) is allowed, path


def test_without_analytics_configured_no_policy_names_google(client, demo_policy, settings):
    settings.GA_MEASUREMENT_ID = ""
    assert not _google_in_policy(client.get("/privacy/"))
    decide(client, action="accept_all")
    assert not _google_in_policy(client.get("/privacy/"))


def test_accepting_again_after_a_refusal_starts_the_tag_on_the_next_page(
    client, demo_policy, settings
):
    """The page the refusing visitor is on forbids Google's hosts, so the module is not
    told to load the tag there; the next page allows them and carries the loader."""
    settings.GA_MEASUREMENT_ID = GA_ID
    decide(client, action="reject_all")

    again = decide_json(client, {"action": "accept_all", "scope": "all"})
    page = client.get("/privacy/")

    assert again.json()["categories"]["analytics"] is True
    assert again.json()["ga"] is None
    assert _google_in_policy(page)
    assert f"gtag/js?id={GA_ID}" in page.content.decode()


def test_without_the_middleware_analytics_configured_is_flagged():
    result = run_manage(
        "check",
        "--fail-level",
        "WARNING",
        env={
            "DJANGO_DEBUG": "true",
            "GA_MEASUREMENT_ID": GA_ID,
            "DJANGO_SETTINGS_MODULE": "tests.consent.csp_settings",
        },
    )

    assert result.returncode != 0
    assert "consent.W001" in result.stderr
