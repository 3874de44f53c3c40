"""The rendered policy kept in the cache (privacy_portal/caching.py)."""

import pytest
from django.test import Client
from django.utils import timezone

from privacy_portal.caching import rendered_policy
from privacy_portal.services import policy_draft_create, policy_publish

pytestmark = pytest.mark.django_db


def test_a_new_version_shows_at_once_in_the_publishing_process(client, demo_policy):
    assert "Version 2" in client.get("/privacy/").text
    draft = policy_draft_create(
        language="en", body="## Personal data\n\nThird words.", effective_date=timezone.localdate()
    )
    policy_publish(version=draft)

    page = Client().get("/privacy/").text

    assert "Version 3" in page
    assert "Third words." in page


def test_a_rendering_is_reused_for_the_same_body_and_release(settings):
    settings.PORTAL_RELEASE = "release-1"
    first = rendered_policy(body_sha256="abc", load_body=lambda: "## One\n\nFirst.")

    again = rendered_policy(body_sha256="abc", load_body=lambda: pytest.fail("rendered again"))

    assert again == first


def test_a_new_release_does_not_serve_the_old_rendering(settings):
    settings.PORTAL_RELEASE = "release-1"
    rendered_policy(body_sha256="abc", load_body=lambda: "## One\n\nOld layout.")
    settings.PORTAL_RELEASE = "release-2"

    new = rendered_policy(body_sha256="abc", load_body=lambda: "## One\n\nNew layout.")

    assert "New layout." in new.html
