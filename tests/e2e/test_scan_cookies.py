"""`manage.py scan_cookies` in a real Chromium against the live portal.

The command drives its own browser (in its own thread), so these tests use no Playwright
fixture; asking for `browser_type_launch_args` gives them the browser tests' rule: skipped
without Chromium, failed under CI=true.
"""

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from consent.scanner import NO_DECISION, pages_from_urlconf
from tests.conftest import run_manage
from tests.e2e.scan_site import TRACKER_HOST

PROGRESS = re.compile(r"^\[(\d+)/(\d+)\] (\S+) \(([a-z ]+)\)(?: \[\d+\])?: \d+ cookies?, ", re.M)
SETTINGS = [NO_DECISION, "preferences accepted", "analytics accepted", "marketing accepted"]


@pytest.fixture
def chromium(browser_type_launch_args) -> str:
    return browser_type_launch_args["executable_path"]


def _scan(url: str, tmp_path, *args: str) -> tuple[str, dict, int]:
    """Run the command; its output, its JSON report and its exit status."""
    out, report = StringIO(), tmp_path / "report.json"
    status = 0
    try:
        call_command("scan_cookies", "--url", url, "--json", str(report), *args, stdout=out)
    except SystemExit as exit_:
        status = exit_.code
    return out.getvalue(), json.loads(report.read_text()), status


def test_clean_demo_site_passes_with_every_page_scanned_in_every_consent_setting(
    chromium, settings, live_server, live_demo_policy, tmp_path
):
    # With Google Analytics configured, as a real site would have it.
    settings.GA_MEASUREMENT_ID = "G-TEST1234"

    output, report, status = _scan(live_server.url, tmp_path, "--path", "/privacy/v/1/")

    assert status == 0, output
    assert report["ok"]
    assert report["findings"] == []
    assert "No findings" in output
    assert report["settings"] == SETTINGS
    # Every public page of the URLconf (the POST-only /consent/ left out, said so), and the
    # policy versions linked from the history.
    public = [page for page in pages_from_urlconf()[0] if page != "/consent/"]
    assert public[:3] == ["/", "/privacy/", "/privacy/history/"]
    assert set(public) < set(report["pages"])
    assert "/privacy/v/1/" in report["pages"]  # given with --path
    assert "/privacy/v/2/diff/" in report["pages"]  # linked from the history
    assert "Not scanned: /consent/ (answers GET with 405)" in output
    # A progress line per page and consent setting, numbered.
    lines = PROGRESS.findall(output)
    total = len(report["pages"]) * len(SETTINGS)
    assert [int(line[0]) for line in lines] == list(range(1, total + 1))
    assert {(line[2], line[3]) for line in lines} == {
        (page, setting) for page in report["pages"] for setting in SETTINGS
    }
    # Google was contacted (the attempt counts even offline) only with analytics accepted.
    contacted = {
        visit["setting"]
        for visit in report["visits"]
        if any("googletagmanager.com" in url for url in visit["third_party"])
    }
    assert contacted == {"analytics accepted"}
    # Before any decision: the site's necessary cookies only.
    before = {
        c["name"] for v in report["visits"] if v["setting"] == NO_DECISION for c in v["cookies"]
    }
    assert "csrftoken" in before
    assert before <= {"csrftoken", "sessionid"}
    # Each decision went through the site's consent form and its signed cookie.
    decisions = [visit for visit in report["visits"] if visit["decision"]]
    assert [visit["setting"] for visit in decisions] == SETTINGS[1:]
    assert all("portal_consent" in visit["new_cookies"] for visit in decisions)
    assert [visit["granted"] for visit in decisions] == [
        ["necessary", "preferences"],
        ["analytics", "necessary"],
        ["marketing", "necessary"],
    ]


def test_undeclared_cookies_and_a_tracker_before_consent_fail_the_scan(
    chromium, settings, live_server, live_demo_policy, tmp_path
):
    settings.ROOT_URLCONF = "tests.e2e.scan_site"
    # Only the test pages and the home page (the clean scan above covers the rest).
    pages = ["/scan-test/tracked/", "/scan-test/pixel/", "/"]

    output, report, status = _scan(
        live_server.url, tmp_path, "--only", *(arg for page in pages for arg in ("--path", page))
    )

    assert status == 1, output
    findings = {(f["kind"], f["subject"], f["setting"]): f for f in report["findings"]}
    # Set by a response header and by a script file, both found on the page that set them.
    for name in ("scan_header_id", "scan_script_id"):
        finding = findings[("undeclared cookie", name, NO_DECISION)]
        assert finding["page"] == "/scan-test/tracked/"
    # A declared analytics cookie, set before consent: a finding in every setting without
    # analytics consent, none with it.
    assert findings[("cookie without consent", "_ga", NO_DECISION)]["category"] == "analytics"
    assert ("cookie without consent", "_ga", "analytics accepted") not in findings
    # The pixel's host, declared by no category: contacted before consent, and after.
    tracker = findings[("third party without consent", TRACKER_HOST, NO_DECISION)]
    assert tracker["page"] == "/scan-test/pixel/"
    assert f"https://{TRACKER_HOST}/p.gif" in tracker["detail"]
    assert {subject for _kind, subject, _setting in findings} == {
        "scan_header_id",
        "scan_script_id",
        "_ga",
        TRACKER_HOST,
    }
    assert report["pages"] == pages
    # The summary table names each of them.
    table = output[output.index("findings (") :]
    for name in ("scan_header_id", "scan_script_id", "_ga", TRACKER_HOST):
        assert name in table


def test_without_chromium_the_command_stops_with_exit_status_2(db):
    result = run_manage(
        "scan_cookies",
        "--url",
        "http://127.0.0.1:9",
        env={"DJANGO_DEBUG": "true", "CHROMIUM_PATH": "/nonexistent/chromium"},
    )

    assert result.returncode == 2
    assert "No Chromium at /nonexistent/chromium" in result.stderr


def test_an_unreachable_site_is_a_setup_error_not_a_finding(chromium, db):
    with pytest.raises(CommandError, match=re.escape("Cannot reach http://127.0.0.1:9/")) as error:
        call_command("scan_cookies", "--url", "http://127.0.0.1:9", stdout=StringIO())

    assert error.value.returncode == 2
