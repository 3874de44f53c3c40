"""The policy page shared by first-time visitors: rendered once, filled per visitor, and
kept in this process and in the shared cache (privacy_portal/caching.py)."""

import json
import re
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import timezone

from privacy_portal import caching
from privacy_portal.services import policy_draft_create, policy_publish
from tests.conftest import run_manage

pytestmark = pytest.mark.django_db

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def banner_fields(html: str) -> dict[str, str]:
    form = html.split("data-consent-form>", 1)[1].split("</form>", 1)[0]
    return dict(HIDDEN.findall(form))


def style_nonce(html: str) -> str:
    return re.search(r'<style nonce="([^"]+)"', html).group(1)


def test_each_first_visit_gets_its_own_nonce_and_return_address(demo_policy):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    pages = [first.get("/privacy/"), second.get("/privacy/?from=mail")]

    fields = [banner_fields(page.text) for page in pages]
    nonces = [style_nonce(page.text) for page in pages]
    assert nonces[0] != nonces[1]
    assert [f["next"] for f in fields] == ["/privacy/", "/privacy/?from=mail"]
    for page, nonce in zip(pages, nonces, strict=True):
        assert f"'nonce-{nonce}'" in page.headers["Content-Security-Policy"]
    # The banner's form carries no per-visitor token (privacy_portal/origin.py), and each
    # visitor's decision is accepted with the fields their page gave them.
    assert all("csrfmiddlewaretoken" not in form for form in fields)
    for client, form in zip((first, second), fields, strict=True):
        decision = client.post("/consent/", {**form, "action": "reject_all"})
        assert decision.status_code == HTTPStatus.SEE_OTHER


def test_a_new_version_shows_at_once_in_the_publishing_process(client, demo_policy):
    assert "Version 2" in client.get("/privacy/").text
    draft = policy_draft_create(
        language="en", body="## Personal data\n\nThird words.", effective_date=timezone.localdate()
    )
    policy_publish(version=draft)

    page = Client().get("/privacy/").text

    assert "Version 3" in page
    assert "Third words." in page


def test_this_process_keeps_a_bounded_number_of_shared_pages(demo_policy, monkeypatch):
    monkeypatch.setattr(caching, "LOCAL_PAGES", 2)
    paths = ["/privacy/", "/privacy/v/1/", "/privacy/v/2/", "/privacy/v/2/diff/"]
    for path in paths:
        assert Client().get(path).status_code == HTTPStatus.OK

    assert len(caching._local_pages) == 2


# --- Shared between processes ------------------------------------------------------------------
VISIT = """
import json, re
from django.test import Client
c = Client(enforce_csrf_checks=True)
page = c.get("/privacy/")
html = page.content.decode()
form = html.split("data-consent-form>", 1)[1].split("</form>", 1)[0]
fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
nonce = re.search(r'<style nonce="([^"]+)"', html).group(1)
decision = c.post("/consent/", {**fields, "action": "accept_all"})
print(json.dumps({
    "nonce_in_csp": f"'nonce-{nonce}'" in page.headers["Content-Security-Policy"],
    "decision": decision.status_code,
}))
"""


def test_a_page_rendered_by_one_process_serves_another_through_redis(tmp_path, redis_cache):
    """Gunicorn's workers and every app server share the cache: a page one of them rendered
    must carry the next one's own nonce, and its visitors' decisions must be accepted."""
    env = {
        "DJANGO_DEBUG": "true",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "CACHE_URL": redis_cache.url,
        "DJANGO_LOG_LEVEL": "CRITICAL",
    }
    assert run_manage("migrate", "-v0", env=env, timeout=120).returncode == 0
    loaded = run_manage(
        "shell",
        "-c",
        "from privacy_portal.demo import demo_policy_load; demo_policy_load(languages=['en'])",
        env=env,
    )
    assert loaded.returncode == 0, loaded.stderr

    def visit(**extra: str) -> dict:
        result = run_manage("shell", "-v0", "-c", VISIT, env={**env, **extra})
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    def shared_pages() -> dict[bytes, int]:
        """Each shared page in Redis and the milliseconds it has left."""
        return {key: redis_cache.store.pttl(key) for key in redis_cache.keys("*shared-page*")}

    first = visit()
    rendered = shared_pages()
    second = visit()
    reused = shared_pages()
    # A process with another secret key (during a rotation) renders its own.
    rotated = visit(DJANGO_SECRET_KEY="another-secret-key-" + "x" * 40)
    after_rotation = shared_pages()

    worked = {"nonce_in_csp": True, "decision": HTTPStatus.SEE_OTHER}
    assert [first, second, rotated] == [worked] * 3
    assert len(rendered) == 1
    # The second process used the first one's rendering: had it rendered the page again,
    # storing it would have set its expiry anew.
    assert reused.keys() == rendered.keys()
    assert all(reused[key] < rendered[key] for key in rendered)
    assert len(after_rotation) == 2


def test_a_new_release_neither_answers_304_nor_serves_the_old_rendering(demo_policy, settings):
    settings.PORTAL_RELEASE = "release-1"
    old = Client().get("/privacy/")
    settings.PORTAL_RELEASE = "release-2"
    cached_pages = len(caching._local_pages)

    new = Client().get("/privacy/", headers={"If-None-Match": old.headers["ETag"]})

    assert new.status_code == HTTPStatus.OK
    assert new.headers["ETag"] != old.headers["ETag"]
    assert len(caching._local_pages) == cached_pages + 1  # rendered anew, not reused
