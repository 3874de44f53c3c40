"""Fixtures shared by the whole suite, and the CI rule for browser and HTML-checker tests."""

import os
import runpy
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache

BASE_DIR = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# The headings of ../shared/seeds/privacy-policy.md, the policy the portal is built from
# ("Unify" is the configured company name; the seed's "Anayltics" typo is corrected).
SEED_HEADINGS = [
    "Personal data",
    "{company} Commitment to Data Privacy Protection",
    "Purpose of Use",
    "Purpose Limitation",
    "Communications or Utilization Data",
    "Non-Personal Data Collected Automatically",
    '"Cookies" - Information Stored Automatically on Your Computer',
    "Children",
    "Security",
    "Links to Other Web Sites",
    "Questions and Comments",
    "Use of Google Analytics",
]


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with empty caches: the shared one (rendered policies, rate limits)
    and every local one (cookie configuration, version in force, shared pages)."""
    from privacy_portal.local_cache import LocalCache

    def forget():
        cache.clear()
        LocalCache.clear_all()

    forget()
    yield
    forget()


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Run what follows a commit (the outbox delivers queued mail) inside the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def dpo(db):
    """A staff user in the DPO group."""
    from django.contrib.auth.models import User

    from privacy_portal.roles import roles_sync

    user = User.objects.create_user("dpo-user", "dpo-user@example.com", "pw", is_staff=True)
    user.groups.add(roles_sync()["DPO"])
    return user


@pytest.fixture
def dpo_client(dpo):
    from django.test import Client

    client = Client()
    client.force_login(dpo)
    return client


@pytest.fixture
def demo_policy(db):
    """The two published demo versions in English, as `make run` loads them (the German
    ones too: tests/privacy_portal/test_i18n.py)."""
    from privacy_portal.demo import demo_policy_load

    return demo_policy_load(languages=["en"])


@pytest.fixture
def redis_cache():
    """A Redis cache of this test's own: a key prefix no other test or suite uses, so two
    suites sharing one Redis never see (or delete) each other's keys. Yields the CACHE_URL
    for a child process and a client; the prefix's keys are deleted afterwards."""
    from tests.helpers import REDIS, redis_answers

    if not redis_answers():
        if IN_CI:
            pytest.fail("CI=true: Redis on 127.0.0.1:6379 does not answer")
        pytest.skip("Redis on 127.0.0.1:6379 does not answer")
    import redis

    prefix = f"test-{uuid.uuid4().hex}"
    store = redis.Redis(*REDIS, db=14)

    def forget() -> None:
        keys = list(store.scan_iter(f"{prefix}:*"))
        if keys:
            store.delete(*keys)

    try:
        url = f"redis://{REDIS[0]}:{REDIS[1]}/14?key_prefix={prefix}"
        yield RedisCache(url, prefix, store, forget)
    finally:
        forget()


@pytest.fixture
def redis_server():
    """A redis-server of this test's own on a free port, to stop, freeze and restart."""
    from bench.harness import RedisServer, free_port

    with RedisServer(free_port()) as server:
        yield server


# The tests' interval between attempts to reach a Redis that was away (own_redis).
REDIS_RETRY = 0.05


@pytest.fixture
def own_redis(redis_server, settings, monkeypatch):
    """The portal's cache as the settings build it for CACHE_URL=redis://..., on this test's
    own redis-server; Redis is tried again every REDIS_RETRY seconds after a failure."""
    import privacy_portal.settings
    from privacy_portal import shared_cache

    monkeypatch.setenv("CACHE_URL", redis_server.url)
    monkeypatch.setattr(shared_cache, "RETRY_SECONDS", REDIS_RETRY)
    monkeypatch.setattr(shared_cache, "_outages", {})
    settings.CACHES = runpy.run_path(privacy_portal.settings.__file__)["CACHES"]
    return redis_server


@dataclass(frozen=True)
class RedisCache:
    url: str
    prefix: str
    store: object
    forget: object

    def keys(self, pattern: str = "*") -> list[bytes]:
        """This test's keys matching `pattern` (without the prefix)."""
        return list(self.store.scan_iter(f"{self.prefix}:{pattern}"))


def run_manage(*args: str, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with exactly the given environment (plus PATH)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_ENV_FILE": os.devnull, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database.get('HOST') or ''}"


# --- Under CI a skipped browser or HTML-checker test is a failure -----------------------------
# Both skip where a tool is missing (Chromium, Java); CI installs the tools, so a skip there
# means a check that never ran.
REQUIRED_IN_CI = {"e2e", "vnu"}
_skipped_in_ci: list[str] = []


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)


def pytest_runtest_logreport(report):
    if report.skipped and REQUIRED_IN_CI & set(report.keywords):
        _skipped_in_ci.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if IN_CI and _skipped_in_ci:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"CI=true: {len(_skipped_in_ci)} browser or HTML-checker test(s) skipped, "
                "which fails the run: " + ", ".join(_skipped_in_ci),
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
