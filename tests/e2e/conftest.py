"""Browser harness: pytest-django's live server + Playwright driving Debian's Chromium.

Later issues reuse these fixtures: `page` (Playwright), `live_server` (pytest-django) and
`artifacts_dir` for screenshots. Playwright never downloads a browser here: it launches the
system Chromium (`CHROMIUM_PATH`, default /usr/bin/chromium). Without it the tests skip with
the reason printed, except under CI=true, where the skip fails the run (see tests/conftest.py).
"""

import os
from pathlib import Path

import pytest

from consent.scanner import CHROMIUM_ARGS as SCANNER_CHROMIUM_ARGS
from tests.conftest import BASE_DIR, IN_CI

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
# fixtures in the same thread are safe here (no concurrent async code touches them).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Offline-safe flags verified on these machines (see ../shared/ci/NOTES.md). No DNS query
# leaves the machine: any request to an outside host fails locally and is visible to tests.
CHROMIUM_ARGS = [
    *SCANNER_CHROMIUM_ARGS,
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        reason = (
            f"no Chromium at {CHROMIUM}: install Debian's `chromium` package "
            "(or set CHROMIUM_PATH) to run the browser tests"
        )
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where browser tests save screenshots (TEST_ARTIFACTS_DIR, default test-artifacts/)."""
    path = Path(os.environ.get("TEST_ARTIFACTS_DIR", BASE_DIR / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def live_demo_policy(transactional_db):
    """The demo content, committed so the live server's thread sees it. Transactional tests
    flush the database afterwards, migrated cookie declarations included: restore them."""
    from privacy_portal.demo import demo_declarations_load, demo_policy_load

    demo_declarations_load()
    return demo_policy_load()


def wait_for_js(page, expression: str, timeout: float = 5.0):
    """Poll `expression` until it is truthy. Playwright's wait_for_function evaluates a
    string with eval(), which the portal's CSP rightly forbids; evaluate() does not."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value or time.monotonic() > deadline:
            assert value, f"timed out waiting for {expression}"
            return value
        page.wait_for_timeout(50)
