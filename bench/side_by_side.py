"""The portal beside a bare Django project and django-cookie-consent 1.0, in one interleaved run.

Run: .venv/bin/python bench/side_by_side.py [--rounds 6] [--seconds 3] [--workers 2]

Two servers under gunicorn, with the same number of sync workers, on the same PostgreSQL
server, each on a throw-away database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/portal_bench_side; the anchor's is the same name with
`_anchor`):

- the portal with production settings and, as deployed, a redis-server of its own as
  CACHE_URL (`--no-redis`: per-process memory);
- the anchor (bench/anchor/): a project as `django-admin startproject` makes it, plus
  django-cookie-consent 1.0 with the portal's cookie categories, in a virtual environment of
  its own (var/bench-anchor-venv, made on the first run with the portal's Django, gunicorn
  and psycopg versions, made again when they change).

Each round measures every case once, a few seconds each, in an order that moves by one case
from round to round, so drift of a shared machine hits every case alike. The same bare views
(one INSERT; a 10 KB page) run in both projects, so the portal's settings and middleware are
measured against Django's defaults; the portal's first visit and cookie decision against
the bare page, one of its own static files and django-cookie-consent's page and accept view.
Every visitor is new: no cookie but, on a POST, the CSRF pair a browser has from its first
page. The driver is wrk when installed (else the harness's Python driver).

Before measuring, every case is answered once and checked, and a fixed number of decisions
is posted to each project and counted in its log table; after measuring, the log tables are
counted again. The exit status is 1 when a check fails or an answer is not what its case
expects; a MISSED target is printed, not an error.
"""

import argparse
import contextlib
import datetime
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlencode, urlparse

import psycopg
from comparison import (
    Requirement,
    Target,
    judge,
    rotated,
    rows_expected,
    spread,
    verdict_line,
    wrk_parse,
    wrk_script,
)
from harness import (
    ROOT,
    RedisServer,
    Server,
    csrf_pair,
    drive,
    free_port,
    recreate_database,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench_side"
ANCHOR_DIR = Path(__file__).resolve().parent / "anchor"
ANCHOR_FIXTURE = ANCHOR_DIR / "fixtures" / "cookie_groups.json"
ANCHOR_VENV = ROOT / "var" / "bench-anchor-venv"
BARE_TABLE_SQL = "CREATE TABLE bench_bare_insert (id bigserial PRIMARY KEY, payload bytea)"
# The static file compared with the first visit is the one closest to the bare page's size.
PAGE_BYTES = 10_000
PORTAL_LOG = "consent_consentrecord"
INCUMBENT_LOG = "cookie_consent_logitem"
DECISIONS_CHECKED = 200

ANCHOR_INSERT = "anchor: bare POST insert"
ANCHOR_PAGE = "anchor: bare 10 KB page"
INCUMBENT_ACCEPT = "django-cookie-consent: accept all"
INCUMBENT_PAGE = "django-cookie-consent: cookie-group page"
PORTAL_INSERT = "portal: bare POST insert"
PORTAL_PAGE = "portal: bare 10 KB page"
PORTAL_FIRST_VISIT = "portal: /privacy/, first visit"
PORTAL_CONSENT = "portal: POST /consent/ accept_all"
PORTAL_STATIC = "portal: static file (WhiteNoise)"

TARGETS = (
    Target("bare POST view inside the portal", (Requirement(PORTAL_INSERT, ANCHOR_INSERT, 0.9),)),
    Target("bare GET page inside the portal", (Requirement(PORTAL_PAGE, ANCHOR_PAGE, 0.9),)),
    Target(
        "portal first visit",
        (
            Requirement(PORTAL_FIRST_VISIT, ANCHOR_PAGE, 1.1),
            Requirement(PORTAL_FIRST_VISIT, PORTAL_STATIC, 0.9),
        ),
    ),
    Target("portal cookie decision", (Requirement(PORTAL_CONSENT, INCUMBENT_ACCEPT, 1.1),)),
)


@dataclass(frozen=True)
class Case:
    name: str
    port: int
    method: str
    path: str
    status: int  # what every answer must be: a refused request is fast, and means nothing
    body: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    expect: str = ""  # found in the answer's headers or body when it is right

    def request(self) -> tuple[str, str, str | None, dict[str, str]]:
        return self.method, self.path, self.body, dict(self.headers)


@dataclass(frozen=True)
class Measurement:
    rps: float
    answered: int
    failed: int  # answers other than 2xx/3xx (wrk) or than the case's status, socket errors


def anchor_requirements() -> list[str]:
    """The portal's own Django, gunicorn and psycopg, so the two projects differ in their code
    only; django-cookie-consent 1.0 asks for Django 4.2 or newer."""
    return [
        f"Django=={version('django')}",
        "django-cookie-consent==1.0.*",
        f"gunicorn=={version('gunicorn')}",
        f"psycopg[binary]=={version('psycopg')}",
    ]


def anchor_venv(path: Path = ANCHOR_VENV) -> Path:
    """The anchor's interpreter, in a virtual environment made once and made again when its
    requirements (or this Python) change: the stamp holds what it was made with."""
    python = path / "bin" / "python"
    stamp = path / "bench-requirements.txt"
    requirements = anchor_requirements()
    wanted = "\n".join([f"# Python {platform.python_version()}", *requirements]) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"making {path}: {' '.join(requirements)}", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *requirements], check=True)
    stamp.write_text(wanted)
    return python


def installed(python: Path, *packages: str) -> str:
    """The versions `python` has of `packages`, for the record."""
    code = (
        "import sys, importlib.metadata as m; "
        "print(', '.join(f'{p} {m.version(p)}' for p in sys.argv[1:]))"
    )
    return subprocess.run(
        [str(python), "-c", code, *packages], capture_output=True, text=True, check=True
    ).stdout.strip()


class AnchorServer(Server):
    """The anchor under gunicorn, through the harness's start and stop: its own interpreter
    and folder, a migrated database with the cookie groups loaded."""

    cwd = ANCHOR_DIR
    wsgi = "anchor.wsgi"
    ready_path = "/bench/page/"

    def __init__(self, python: Path, database_url: str, workers: int):
        super().__init__(database_url, workers)
        self.python = str(python)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "anchor.settings",
            "ANCHOR_SECRET_KEY": secrets.token_urlsafe(50),
            "ANCHOR_DATABASE_URL": database_url,
        }

    def prepare(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("loaddata", "-v0", str(ANCHOR_FIXTURE))


def optional_groups() -> list[str]:
    """The cookie groups a visitor can accept (what django-cookie-consent's bar posts when
    accepting all)."""
    fixture = json.loads(ANCHOR_FIXTURE.read_text())
    return [
        row["fields"]["varname"]
        for row in fixture
        if row["model"] == "cookie_consent.cookiegroup" and not row["fields"]["is_required"]
    ]


class BannerForm(HTMLParser):
    """The first form marked data-consent-form in a page: its action and hidden fields."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.inside = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and "data-consent-form" in attributes and self.action is None:
            self.action = attributes.get("action") or ""
            self.inside = True
        elif tag == "input" and self.inside and attributes.get("type") == "hidden":
            self.fields[attributes.get("name") or ""] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def browser_post_headers(port: int, csrf_cookie: str | None) -> dict[str, str]:
    """What a browser sends with a same-origin form post, cookies aside from the CSRF one
    (none when the page set none)."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": f"http://127.0.0.1:{port}",
        "Sec-Fetch-Site": "same-origin",
    }
    if csrf_cookie:
        headers["Cookie"] = f"csrftoken={csrf_cookie}"
    return headers


def first_visit_check(port: int) -> str:
    """What a new visitor gets, checked once: the whole page with the banner shown, the same
    bytes for two new visitors, public for a CDN, no cookie set, no token, no nonce."""
    answers = []
    for _ in range(2):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/privacy/")
        response = conn.getresponse()
        answers.append((response, response.read()))
    (response, body), (_second, second_body) = answers
    html = body.decode()
    problems = [
        problem
        for problem, failed in [
            (f"status {response.status}", response.status != 200),
            ("no banner shown", "data-consent-banner>" not in html),
            ("not the same bytes for two new visitors", body != second_body),
            ("not public", "public" not in (response.getheader("Cache-Control") or "")),
            ("a cookie set", response.getheader("Set-Cookie") is not None),
            ("a CSRF token in the page", "csrfmiddlewaretoken" in html),
            ("a nonce", "nonce" in html + (response.getheader("Content-Security-Policy") or "")),
        ]
        if failed
    ]
    return ", ".join(problems) or f"ok ({len(html)} bytes of HTML)"


def portal_consent_case(port: int) -> Case:
    """POST /consent/ as the banner of a first visit posts it, "Accept all" pressed: its own
    hidden fields, no cookie and no token (the portal checks the origin instead)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/privacy/")
    response = conn.getresponse()
    form = BannerForm()
    form.feed(response.read().decode())
    if form.action is None:
        raise RuntimeError("no banner form (data-consent-form) on a first visit to /privacy/")
    body = urlencode({**form.fields, "action": "accept_all"})
    return Case(
        PORTAL_CONSENT,
        port,
        "POST",
        urlparse(form.action).path or "/consent/",
        303,
        body,
        browser_post_headers(port, None),
        expect="portal_consent=",
    )


def static_case(port: int, static_root: str) -> tuple[Case, str]:
    """The portal's collected file (by its hashed name, as its pages link it) closest to the
    bare page's 10 KB; served raw: no request of the run asks for compression."""
    root = Path(static_root)
    paths = json.loads((root / "staticfiles.json").read_text())["paths"]
    sizes = {hashed: (root / hashed).stat().st_size for hashed in paths.values()}
    hashed = min(sizes, key=lambda name: (abs(sizes[name] - PAGE_BYTES), name))
    case = Case(
        PORTAL_STATIC,
        port,
        "GET",
        f"/static/{hashed}",
        200,
        expect=f"Content-Length: {sizes[hashed]}",
    )
    return case, f"{hashed} ({sizes[hashed]} bytes)"


def cases_build(portal: Server, anchor: AnchorServer) -> tuple[list[Case], str]:
    anchor_cookie, anchor_token = csrf_pair(anchor.port, "/cookies/")
    accept_body = urlencode(
        [("cookie_groups", group) for group in optional_groups()]
        + [("csrfmiddlewaretoken", anchor_token)]
    )
    bare_post = ("action=accept_all", {"Content-Type": "text/plain"})
    static, static_file = static_case(portal.port, portal.static_root)
    cases = [
        Case(ANCHOR_INSERT, anchor.port, "POST", "/bench/insert/", 204, *bare_post),
        Case(ANCHOR_PAGE, anchor.port, "GET", "/bench/page/", 200, expect="<title>bare"),
        Case(
            INCUMBENT_ACCEPT,
            anchor.port,
            "POST",
            "/cookies/accept/",
            302,
            accept_body,
            browser_post_headers(anchor.port, anchor_cookie),
            expect="cookie_consent=",
        ),
        Case(
            INCUMBENT_PAGE,
            anchor.port,
            "GET",
            "/cookies/",
            200,
            expect='name="cookie_groups" value="marketing"',
        ),
        Case(PORTAL_INSERT, portal.port, "POST", "/bench/insert/", 204, *bare_post),
        Case(PORTAL_PAGE, portal.port, "GET", "/bench/page/", 200, expect="<title>bare"),
        Case(PORTAL_FIRST_VISIT, portal.port, "GET", "/privacy/", 200),
        portal_consent_case(portal.port),
        static,
    ]
    return cases, static_file


def case_check(case: Case) -> str | None:
    """What is wrong with one answer to `case`, or None."""
    conn = http.client.HTTPConnection("127.0.0.1", case.port)
    method, path, body, headers = case.request()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = str(response.msg) + response.read().decode(errors="replace")
    if response.status != case.status:
        return f"{case.name}: status {response.status}, not {case.status}"
    if case.expect not in text:
        return f"{case.name}: {case.expect!r} not in the answer"
    return None


# A verdict on the run's correctness, and what was found.
type Check = tuple[bool, str]


def checks_print(checks: list[Check]) -> None:
    for good, line in checks:
        print(f"check: {line} -> {'ok' if good else 'PROBLEM'}")


@dataclass(frozen=True)
class DecisionLog:
    """Where a project logs the decisions of a case, and how many rows each one writes."""

    database_url: str
    table: str
    rows_per_decision: int

    def rows(self) -> int:
        with psycopg.connect(self.database_url, autocommit=True) as db:
            return db.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0]

    def rows_settled(self) -> int:
        """The row count once the requests still in the server's hands when a driver
        stopped have been handled (it stays the same for 0.3 s)."""
        count = self.rows()
        for _ in range(30):
            time.sleep(0.3)
            now = self.rows()
            if now == count:
                break
            count = now
        return count


def decisions_check(case: Case, log: DecisionLog) -> Check:
    """A fixed number of decisions: every one answered as the case expects, and logged."""
    before = log.rows()
    result = drive(case.port, case.request, DECISIONS_CHECKED, 4)
    logged = log.rows() - before
    answered = result["statuses"].get(case.status, 0)
    good = answered == DECISIONS_CHECKED and logged == answered * log.rows_per_decision
    return good, (
        f"{case.name}: {DECISIONS_CHECKED} posted, {answered} answered {case.status}, "
        f"{logged} rows in {log.table} ({log.rows_per_decision} per decision)"
    )


def rounds_log_check(
    name: str, log: DecisionLog, *, answered: int, logged: int, runs: int, in_flight: int
) -> Check:
    """The rows the decisions of the rounds wrote (see comparison.rows_expected)."""
    least, most = rows_expected(
        answered=answered, per_decision=log.rows_per_decision, runs=runs, in_flight=in_flight
    )
    return least <= logged <= most, (
        f"{name} during the rounds: {answered} answered, {logged} rows in {log.table} "
        f"(expected {least}"
        + (f" to {most}, for requests in flight when a run stopped" if most > least else "")
        + ")"
    )


class Driver:
    """wrk (one thread; each case's request built once by its script) or, without it, the
    harness's Python driver (a fixed number of requests per measurement)."""

    def __init__(self, choice: str, seconds: int, connections: int, requests: int):
        self.wrk = shutil.which("wrk") if choice != "python" else None
        self.why_python = "as asked" if choice == "python" else "wrk not found"
        self.seconds = seconds
        self.connections = connections
        self.requests = requests
        self.scripts = tempfile.TemporaryDirectory(prefix="side-by-side-wrk-")

    def describe(self) -> str:
        if self.wrk is None:
            return (
                f"the harness's Python driver ({self.why_python}), {self.connections} connections, "
                f"{self.requests} requests per measurement"
            )
        wrk = subprocess.run([self.wrk, "-v"], capture_output=True, text=True)
        name = (wrk.stdout or wrk.stderr).splitlines()[0].split(" Copyright")[0]
        return f"{name}, 1 thread, {self.connections} connections, {self.seconds} s per measurement"

    def measure(self, case: Case, seconds: int | None = None) -> Measurement:
        if self.wrk is None:
            result = drive(case.port, case.request, self.requests, self.connections)
            wrong = sum(n for status, n in result["statuses"].items() if status != case.status)
            return Measurement(result["rps"], result["count"], wrong)
        script = Path(self.scripts.name) / (re.sub(r"\W+", "-", case.name) + ".lua")
        if not script.exists():
            script.write_text(wrk_script(case.method, case.body, case.headers))
        output = subprocess.run(
            [
                self.wrk,
                "-t1",
                f"-c{self.connections}",
                f"-d{seconds or self.seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                f"http://127.0.0.1:{case.port}{case.path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = wrk_parse(output)
        return Measurement(result.rps, result.requests, result.not_2xx_3xx + result.socket_errors)


def machine(database_url: str) -> str:
    cpuinfo = Path("/proc/cpuinfo")
    models = [
        line.split(":", 1)[1].strip()
        for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
        if line.startswith("model name")
    ]
    with psycopg.connect(database_url, autocommit=True) as db:
        postgres = db.execute("SHOW server_version").fetchone()[0]
    return (
        f"{models[0] if models else platform.processor() or 'unknown CPU'}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL {postgres}"
    )


def load_average() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def table_print(cases: list[Case], runs: dict[str, list[Measurement]]) -> None:
    width = max(len(case.name) for case in cases) + 2
    print(f"{'case':{width}}{'status':>6}{'req/s':>8}{'min-max':>12}   per round")
    for case in cases:
        rps = [m.rps for m in runs[case.name]]
        median, low, high = spread(rps)
        rounds = " ".join(f"{r:.0f}" for r in rps)
        print(
            f"{case.name:{width}}{case.status:>6}{median:>8.0f}"
            f"{f'{low:.0f}-{high:.0f}':>12}   {rounds}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=3, help="per measurement (wrk)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers, each")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--requests", type=int, default=1000, help="per measurement (Python driver)"
    )
    parser.add_argument("--driver", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--no-redis", action="store_true", help="the portal without Redis")
    args = parser.parse_args()
    driver = Driver(args.driver, args.seconds, args.connections, args.requests)
    if args.driver == "wrk" and driver.wrk is None:
        parser.error("wrk is not installed")

    portal_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    anchor_url = urlparse(portal_url)._replace(path=urlparse(portal_url).path + "_anchor").geturl()
    anchor_python = anchor_venv()
    recreate_database(portal_url)
    recreate_database(anchor_url)
    started = datetime.datetime.now(datetime.UTC)
    load_before = load_average()

    with contextlib.ExitStack() as servers:
        cache = {}
        if not args.no_redis:
            cache["CACHE_URL"] = servers.enter_context(RedisServer(free_port())).url
        portal = servers.enter_context(Server(portal_url, args.workers, env=cache))
        anchor = servers.enter_context(AnchorServer(anchor_python, anchor_url, args.workers))
        for url in (portal_url, anchor_url):
            with psycopg.connect(url, autocommit=True) as db:
                db.execute(BARE_TABLE_SQL)
        cases, static_file = cases_build(portal, anchor)
        by_name = {case.name: case for case in cases}

        logs = {
            PORTAL_CONSENT: DecisionLog(portal_url, PORTAL_LOG, 1),
            INCUMBENT_ACCEPT: DecisionLog(anchor_url, INCUMBENT_LOG, len(optional_groups())),
        }
        problems = [problem for case in cases if (problem := case_check(case))]
        first_visit = first_visit_check(portal.port)
        checks: list[Check] = [
            (
                not problems,
                "; ".join(problems) or f"each of the {len(cases)} cases answered once as expected",
            ),
            (first_visit.startswith("ok"), f"first visit: {first_visit}"),
            *(decisions_check(by_name[name], log) for name, log in logs.items()),
        ]
        if not all(good for good, _ in checks):
            checks_print(checks)
            print("checks failed: nothing measured")
            return 1

        for case in cases:  # warm every worker and cache
            driver.measure(case, seconds=1)
        before = {name: log.rows_settled() for name, log in logs.items()}
        runs: dict[str, list[Measurement]] = {case.name: [] for case in cases}
        for round_index in range(args.rounds):
            print(f"round {round_index + 1}/{args.rounds}", file=sys.stderr, flush=True)
            for name in rotated([case.name for case in cases], round_index):
                runs[name].append(driver.measure(by_name[name]))
        after = {name: log.rows_settled() for name, log in logs.items()}

    print(f"side by side, {started:%Y-%m-%d %H:%M} UTC: {machine(portal_url)}")
    print(f"load average {load_before} before, {load_average()} after")
    print(
        f"portal: {installed(Path(sys.executable), 'django', 'gunicorn', 'psycopg')}, "
        f"cache: {'per-process memory' if args.no_redis else 'a redis-server of its own'}"
    )
    anchor_packages = ("django", "django-cookie-consent", "gunicorn", "psycopg")
    print(
        f"anchor: {installed(anchor_python, *anchor_packages)}, startproject settings, "
        "per-process memory cache"
    )
    print(
        f"gunicorn {args.workers} sync workers each, PostgreSQL; driver: {driver.describe()}; "
        f"{args.rounds} rounds, the order moving by one case each round"
    )
    print(f"static file: {static_file}")
    table_print(cases, runs)

    rps = {name: [m.rps for m in measurements] for name, measurements in runs.items()}
    judgements = {target: [judge(r, rps) for r in target.requirements] for target in TARGETS}
    print("per-round ratios (target / reference):")
    for judgement in (j for js in judgements.values() for j in js):
        print(
            f"  {judgement.requirement.case} / {judgement.requirement.reference}: "
            + " ".join(f"{r:.2f}" for r in judgement.ratios)
            + f" (median {judgement.median:.2f})"
        )
    for target, target_judgements in judgements.items():
        print(verdict_line(target, target_judgements))

    checks += [
        rounds_log_check(
            name,
            log,
            answered=sum(m.answered for m in runs[name]),
            logged=after[name] - before[name],
            runs=args.rounds,
            in_flight=args.connections if driver.wrk else 0,
        )
        for name, log in logs.items()
    ]
    failed = {name: n for name, ms in runs.items() if (n := sum(m.failed for m in ms))}
    checks.append(
        (
            not failed,
            "answers not 2xx/3xx (wrk) or not the case's status, socket errors, during the "
            "rounds: " + (", ".join(f"{name} {n}" for name, n in failed.items()) or "none"),
        )
    )
    checks_print(checks)
    return 0 if all(good for good, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
