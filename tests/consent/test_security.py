"""Content Security Policy: nonces, never unsafe-inline, Google only when configured."""

import json

import pytest

from tests.conftest import run_manage

pytestmark = pytest.mark.django_db


def test_every_page_has_a_nonce_csp_without_unsafe_inline(client, demo_policy):
    for path in ["/", "/privacy/", "/privacy/history/", "/cookies/", "/privacy/v/9/"]:
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in policy
        assert "'unsafe-eval'" not in policy
        assert "frame-ancestors 'none'" in policy
        nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
        assert f'<style nonce="{nonce}">' in response.content.decode()
        assert "googletagmanager" not in policy  # analytics is not configured in tests


@pytest.mark.parametrize(("measurement_id", "allowed"), [("G-ABC123", True), ("", False)])
def test_google_hosts_are_allowed_only_when_analytics_is_configured(measurement_id, allowed):
    script = "import json; from django.conf import settings; print(json.dumps(settings.SECURE_CSP))"
    result = run_manage(
        "shell", "-c", script, env={"DJANGO_DEBUG": "true", "GA_MEASUREMENT_ID": measurement_id}
    )

    policy = json.loads(result.stdout.strip().splitlines()[-1])
    assert ("https://www.googletagmanager.com" in policy["script-src"]) is allowed
    assert any("google-analytics.com" in src for src in policy["connect-src"]) is allowed
