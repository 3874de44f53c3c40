"""The shared cache (Redis) going away: the portal serves and saves without it, says so on
/healthz, and uses Redis again once it is back (privacy_portal/shared_cache.py).

Each test runs the portal as production configures it for CACHE_URL=redis://... (the settings
module run with that URL) against a redis-server of its own, which it stops (connections
refused), freezes (connections accepted, never answered) or starts again on the same port.
"""

import contextlib
import datetime
import logging
import signal
import time
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from consent.models import ConsentRecord, Registration
from privacy_portal import shared_cache
from privacy_portal.local_cache import LocalCache
from privacy_portal.services import policy_draft_create, policy_publish
from requests_app.models import ContactMessage, DataSubjectRequest
from tests.conftest import REDIS_RETRY as RETRY
from tests.helpers import link_in_mail, public_paths

pytestmark = pytest.mark.django_db


class Stalled(BaseException):
    """A request that waited on a Redis that does not answer (not an Exception: no handler
    on the way may turn it into a 500)."""


@contextlib.contextmanager
def at_most(seconds: float):
    """Fail (rather than hang) if the block takes longer than `seconds`."""

    def stalled(signum, frame):
        raise Stalled(f"still waiting after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stalled)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def browser() -> Client:
    """A visitor whose errors come back as the 500 page, as they would in production."""
    return Client(raise_request_exception=False)


def back_in_use(redis_server, pattern: str, touch) -> list[str]:
    """Keys matching `pattern` in Redis once `touch()` (a request) has found it back."""
    time.sleep(RETRY * 2)
    touch()
    return redis_server.keys(pattern)


# --- Forms save and answer ------------------------------------------------------------------
def test_cookie_decisions_are_recorded_while_redis_is_down(own_redis, demo_policy):
    visitor = browser()
    own_redis.stop()

    by_form = visitor.post("/consent/", {"action": "accept_all", "scope": "prompt", "next": "/"})
    by_script = visitor.post(
        "/consent/",
        {"action": "reject_all", "scope": "prompt"},
        content_type="application/json",
        headers={"Accept": "application/json"},
    )

    assert by_form.status_code == HTTPStatus.SEE_OTHER
    assert by_script.status_code == HTTPStatus.OK
    assert by_script.json()["consentId"]
    assert list(ConsentRecord.objects.order_by("pk").values_list("action", flat=True)) == [
        "accept_all",
        "reject_all",
    ]


def test_a_request_is_submitted_and_verified_while_redis_is_down(own_redis, demo_policy, deliver):
    visitor = browser()
    own_redis.stop()

    with deliver():
        submitted = visitor.post(
            "/requests/new/", {"kind": "access", "name": "Alice", "email": "alice@example.org"}
        )
    verify_path = link_in_mail(mail.outbox[-1], "/requests/verify/")
    shown = visitor.get(verify_path)
    with deliver():
        verified = visitor.post(verify_path)

    assert submitted.status_code == HTTPStatus.SEE_OTHER
    assert shown.status_code == HTTPStatus.OK
    assert verified.status_code == HTTPStatus.SEE_OTHER
    assert visitor.get(verified.headers["Location"]).status_code == HTTPStatus.OK
    assert DataSubjectRequest.objects.get(email="alice@example.org").status == "verified"


def test_contact_messages_and_registrations_are_saved_while_redis_is_down(
    own_redis, demo_policy, deliver
):
    visitor = browser()
    own_redis.stop()

    contact = visitor.post(
        "/contact/", {"name": "Carol", "email": "carol@example.org", "message": "Hello DPO"}
    )
    with deliver():
        registered = visitor.post(
            "/register/",
            {
                "name": "Kim Lee",
                "email": "kim@example.org",
                "country": "US",
                "date_of_birth": datetime.date(1990, 5, 1).isoformat(),
            },
        )

    assert contact.status_code == HTTPStatus.SEE_OTHER
    assert registered.status_code == HTTPStatus.SEE_OTHER
    assert ContactMessage.objects.get().email == "carol@example.org"
    assert Registration.objects.get().email == "kim@example.org"


def test_staff_sign_in_while_redis_is_down(own_redis, demo_policy):
    User.objects.create_superuser("dana", "dana@example.com", "correct horse battery")
    staff = browser()
    own_redis.stop()

    signed_in = staff.post(
        "/admin/login/?next=/admin/", {"username": "dana", "password": "correct horse battery"}
    )

    assert signed_in.status_code == HTTPStatus.FOUND
    assert signed_in.headers["Location"] == "/admin/"
    assert staff.get("/admin/").status_code == HTTPStatus.OK


# --- Rate limits count in each process ------------------------------------------------------
def test_rate_limits_still_hold_in_each_process_while_redis_is_down(
    own_redis, demo_policy, settings
):
    settings.RATE_LIMIT_POST_PER_MINUTE = 2
    settings.LOGIN_FAILURES_PER_USERNAME = 2
    settings.LOGIN_FAILURE_WINDOW_MINUTES = 10**6  # one window for the whole test
    own_redis.stop()

    def attempt():
        return [browser().post("/contact/", {}).status_code for _ in range(3)]

    posts = attempt()
    if posts[-1] != HTTPStatus.TOO_MANY_REQUESTS:  # the minute turned between two posts
        posts = attempt()
    sign_ins = [
        browser().post("/admin/login/", {"username": "dana", "password": "wrong"}).status_code
        for _ in range(3)
    ]

    assert posts == [HTTPStatus.BAD_REQUEST, HTTPStatus.BAD_REQUEST, HTTPStatus.TOO_MANY_REQUESTS]
    assert sign_ins == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]


@pytest.fixture
def small_fallback(monkeypatch):
    """At most 30 entries in the process's memory (set before the cache is first used)."""
    monkeypatch.setattr(shared_cache, "FALLBACK_MAX_ENTRIES", 30)


def test_the_counts_kept_in_the_process_are_bounded_and_dropped_when_redis_is_back(
    small_fallback, own_redis, demo_policy
):
    own_redis.stop()

    answers = {
        browser().post("/contact/", {}, REMOTE_ADDR=f"198.51.100.{n}").status_code
        for n in range(1, 101)
    }
    assert answers == {HTTPStatus.BAD_REQUEST}  # each address under its limit
    held_during = len(cache.fallback._cache)
    own_redis.start()
    back = back_in_use(own_redis, "*ratelimit*", lambda: browser().post("/contact/", {}))

    assert 0 < held_during <= 30
    assert back
    assert len(cache.fallback._cache) == 0


# --- Pages render -----------------------------------------------------------------------------
def test_every_page_renders_while_redis_is_down(own_redis, demo_policy, dpo_client):
    own_redis.stop()
    visitor = browser()
    # Pages reached by a mailed link answer their own 4xx for the made-up token.
    answers = {name: visitor.get(path).status_code for name, path in public_paths().items()}
    dashboard = dpo_client.get("/admin/")
    decided = browser()
    decided.post("/consent/", {"action": "reject_all", "scope": "prompt", "next": "/"})

    assert HTTPStatus.INTERNAL_SERVER_ERROR not in answers.values(), answers
    for name in ("privacy_portal:home", "privacy_portal:policy", "consent:cookies"):
        assert answers[name] == HTTPStatus.OK
    assert "Version 2" in visitor.get("/privacy/").text
    assert "Version 2" in decided.get("/privacy/").text  # a visitor with a decision, too
    assert dashboard.status_code == HTTPStatus.OK


# --- /healthz ---------------------------------------------------------------------------------
def test_healthz_says_the_cache_is_unreachable_and_logs_it(own_redis, db, caplog):
    up = browser().get("/healthz")
    own_redis.stop()

    with caplog.at_level(logging.WARNING):
        down = browser().get("/healthz")

    assert (up.status_code, up.json()) == (
        HTTPStatus.OK,
        {"status": "ok", "database": "ok", "cache": "ok"},
    )
    # Still 200: the instance serves every page and saves every form without the cache.
    assert (down.status_code, down.json()) == (
        HTTPStatus.OK,
        {"status": "degraded", "database": "ok", "cache": "unreachable"},
    )
    assert any("cache" in record.getMessage() for record in caplog.records), caplog.text


def test_a_redis_that_comes_back_is_used_again(own_redis, demo_policy, caplog):
    own_redis.stop()
    during = browser().post("/contact/", {})
    health_during = browser().get("/healthz").json()["cache"]
    own_redis.start()  # an empty Redis on the same port

    keys = back_in_use(own_redis, "*ratelimit*", lambda: browser().post("/contact/", {}))
    health_after = browser().get("/healthz").json()

    assert during.status_code == HTTPStatus.BAD_REQUEST
    assert health_during == "unreachable"
    assert keys, "the rate limit counted in this process, not in Redis"
    assert health_after == {"status": "ok", "database": "ok", "cache": "ok"}
    outage_lines = [r.getMessage() for r in caplog.records if r.name == shared_cache.logger.name]
    assert len([line for line in outage_lines if "unreachable" in line]) == 1  # once per outage
    assert any("back" in line for line in outage_lines), outage_lines


# --- A Redis that accepts connections but does not answer ----------------------------------
def test_a_hung_redis_delays_a_request_by_its_short_timeout_at_most(own_redis, demo_policy):
    visitor = browser()
    visitor.get("/privacy/")  # connections to Redis are open
    own_redis.freeze()
    started = time.monotonic()

    with at_most(5):
        decided = visitor.post("/consent/", {"action": "accept_all", "scope": "prompt"})
        page = visitor.get("/privacy/history/")
        health = visitor.get("/healthz")
    elapsed = time.monotonic() - started

    assert decided.status_code == HTTPStatus.SEE_OTHER
    assert page.status_code == HTTPStatus.OK
    assert health.json()["cache"] == "unreachable"
    assert ConsentRecord.objects.count() == 1
    # One timeout for the request that finds Redis away, one for the health check's own try.
    assert elapsed < 1.0, elapsed


def test_a_version_published_while_redis_was_away_shows_once_it_is_back(
    own_redis, demo_policy, deliver
):
    """Publishing drops the cached version in force; a Redis that missed the deletion
    (frozen, then back with its data) must not show the old version to other processes."""
    assert "Version 2" in browser().get("/privacy/").text
    assert own_redis.keys("*policy-html*")
    own_redis.freeze()
    with at_most(5):
        browser().post("/contact/", {})  # finds Redis away
        draft = policy_draft_create(
            language="en",
            body="## Personal data\n\nThird words.",
            effective_date=timezone.localdate(),
        )
        with deliver():
            policy_publish(version=draft)
    own_redis.thaw()
    back_in_use(own_redis, "*", lambda: browser().post("/contact/", {}))

    # Another process has none of this one's own copies: it reads Redis.
    LocalCache.clear_all()
    page = browser().get("/privacy/").text

    assert "Version 3" in page
    assert "Third words." in page
