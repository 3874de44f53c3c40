"""The cookie scanner: the portal's own pages in a real browser, checked against the
declarations (`manage.py scan_cookies`).

A declaration is a promise to visitors: every cookie the site sets is listed under a
category, nothing but strictly necessary cookies is set before consent, and no third party
is contacted before consent. Reading templates cannot prove that — scripts set cookies and
load other scripts — so the scanner opens every public page in headless Chromium, once
without a decision and once with each optional category accepted alone, and compares what
the browser really stored and requested with the declarations.

Third-party hosts have no declaration model of their own: a host belongs to a category when
a page gates a script from it under that category (`{% consent_script %}`, the Google
Analytics loader) or when `CONSENT_SCAN_HOSTS` (category slug -> host patterns, Google
Analytics' hosts under "analytics" by default) says so.

Chromium resolves no outside host name unless asked to (`online`), so nothing leaves the
machine during a scan; a request attempted still counts as a host contacted, which is what
the visitor's privacy depends on.
"""

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern

from .csp import GOOGLE_ANALYTICS_SOURCES
from .models import CookieCategory

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Flags verified offline on the CI machines (../shared/ci/NOTES.md, tests/e2e/conftest.py).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_DECISION = "no decision"
NAVIGATION_TIMEOUT_MS = 15_000
# After `load`, a page is read once no request has been in flight for QUIET_MS (late
# trackers, tags loading tags), or after SETTLE_TIMEOUT_MS whatever it still does.
SETTLE_TIMEOUT_MS = 3_000
QUIET_MS = 100
# Namespaces never scanned: staff pages are not what visitors see.
EXCLUDED_NAMESPACES = frozenset({"admin"})

UNDECLARED_COOKIE = "undeclared cookie"
COOKIE_WITHOUT_CONSENT = "cookie without consent"
THIRD_PARTY_WITHOUT_CONSENT = "third party without consent"

# Records a decision the way the banner's module does: the page's own consent form (its
# CSRF token, revision and return address) posted to /consent/, so the consent cookie the
# scan continues with is the real one, signed by the site.
_DECIDE_JS = """
async (categories) => {
  const forms = [...document.querySelectorAll("form[data-consent-form]")];
  const form = forms.find((f) => f.elements.scope?.value === "all") || forms[0];
  if (!form) return { status: 0, body: null };
  const data = new URLSearchParams(new FormData(form));
  data.delete("categories");
  for (const slug of categories) data.append("categories", slug);
  data.set("action", "custom");
  data.set("scope", "all");
  const response = await fetch(form.getAttribute("action"), {
    method: "POST", body: data, headers: { Accept: "application/json" },
  });
  let body = null;
  try { body = await response.json(); } catch {}
  return { status: response.status, body };
}
"""
# Scripts a page gates by category: inert (data-src) until consent, live (src) after.
_GATED_SCRIPTS_JS = """
() => [...document.querySelectorAll("script[data-category], script[data-consent-ga]")].map(
  (s) => [s.dataset.category || "analytics", s.getAttribute("src") || s.dataset.src || ""])
"""


class ScanError(Exception):
    """The scan could not run (no browser, site unreachable, no way to record a decision)."""


class ScanCancelled(Exception):
    """The scan was interrupted between two pages."""


@dataclass(frozen=True)
class DeclaredCookie:
    pattern: str
    category: str
    necessary: bool

    def matches(self, name: str) -> bool:
        return _wildcard(self.pattern).fullmatch(name) is not None


@dataclass(frozen=True)
class Declarations:
    """What the site promises: its cookies by category, and which hosts each category may
    contact."""

    cookies: tuple[DeclaredCookie, ...]
    optional: tuple[str, ...]
    necessary: frozenset[str]
    hosts: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def cookie(self, name: str) -> DeclaredCookie | None:
        return next((cookie for cookie in self.cookies if cookie.matches(name)), None)

    def host_categories(self, host: str) -> set[str]:
        return {
            category
            for category, patterns in self.hosts.items()
            if any(_host_matches(host, pattern) for pattern in patterns)
        }


@dataclass(frozen=True)
class ConsentSetting:
    """One consent state the pages are visited in: no decision, or one category accepted."""

    label: str
    accepted: tuple[str, ...] | None

    @property
    def decided(self) -> bool:
        return self.accepted is not None


@dataclass
class Visit:
    """What one page did in one consent state."""

    path: str
    setting: str
    status: int
    cookies: list[dict]
    new_cookies: list[str]
    requests: list[str]
    third_party: list[str]
    gated_hosts: list[tuple[str, str]]
    granted: list[str]
    seconds: float
    # The visit to the cookie page that recorded the setting's decision (no progress line).
    decision: bool = False


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str
    category: str
    setting: str
    page: str
    detail: str


@dataclass
class ScanReport:
    base_url: str
    pages: list[str]
    skipped: list[str]
    settings: list[str]
    visits: list[Visit]
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict:
        return asdict(self) | {"ok": self.ok}


def _wildcard(pattern: str) -> re.Pattern:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def _host_matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def _host_of(source: str) -> str:
    """`https://*.example.com/path` as `*.example.com` (CSP sources and plain hosts alike)."""
    return source.split("://", 1)[-1].split("/", 1)[0]


def declarations_load() -> Declarations:
    """The declared categories and cookies, and the hosts each category may contact
    (Google Analytics' under "analytics", plus CONSENT_SCAN_HOSTS).

    Reads the database: call it before the browser starts (Playwright's event loop makes
    the ORM refuse to run in its thread)."""
    categories = list(CookieCategory.objects.prefetch_related("cookies"))
    hosts = {"analytics": {_host_of(s) for ss in GOOGLE_ANALYTICS_SOURCES.values() for s in ss}}
    for slug, patterns in getattr(settings, "CONSENT_SCAN_HOSTS", {}).items():
        hosts.setdefault(slug, set()).update(_host_of(p) for p in patterns)
    return Declarations(
        cookies=tuple(
            DeclaredCookie(cookie.name, category.slug, category.is_necessary)
            for category in categories
            for cookie in category.cookies.all()
        ),
        optional=tuple(c.slug for c in categories if not c.is_necessary),
        necessary=frozenset(c.slug for c in categories if c.is_necessary),
        hosts={slug: tuple(sorted(patterns)) for slug, patterns in hosts.items()},
    )


def consent_settings(declarations: Declarations) -> list[ConsentSetting]:
    """No decision first (what every visitor gets before answering the banner), then each
    optional category accepted alone, so each category's cookies and hosts are seen only
    with their own consent."""
    return [ConsentSetting(NO_DECISION, None)] + [
        ConsentSetting(f"{slug} accepted", (slug,)) for slug in declarations.optional
    ]


# --- Pages -------------------------------------------------------------------------------


def _regex_to_path(regex: str) -> str | None:
    """A parameterless regex route as a path, or None when it matches more than one."""
    text = regex.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    plain = re.sub(r"\\(.)", r"\1", text)
    if re.search(r"[][(){}*+?|^$.]", re.sub(r"\\.", "", text)):
        return None
    return plain


def _walk(patterns, prefix: str, found: list[str], skipped: list[str]) -> None:
    for pattern in patterns:
        part = pattern.pattern
        if isinstance(part, RoutePattern):
            route = str(part)
            has_params = bool(part.converters)
        elif isinstance(part, RegexPattern):
            path = _regex_to_path(str(part))
            route = path if path is not None else str(part)
            has_params = path is None
        else:  # i18n_patterns(): scanned in the default language.
            route, has_params = getattr(part, "language_prefix", ""), False
        if isinstance(pattern, URLResolver):
            if pattern.namespace in EXCLUDED_NAMESPACES or pattern.app_name in EXCLUDED_NAMESPACES:
                continue
            _walk(pattern.url_patterns, prefix + route, found, skipped)
        elif isinstance(pattern, URLPattern):
            (skipped if has_params else found).append("/" + prefix + route)


def pages_from_urlconf(urlconf: str | None = None) -> tuple[list[str], list[str]]:
    """Every parameterless page of the URLconf (the admin left out), and the routes left
    out because they need parameters (a token, a version number); a page linked from a
    scanned page fills in the latter where it can (see `_linked_pages`)."""
    found: list[str] = []
    skipped: list[str] = []
    _walk(get_resolver(urlconf).url_patterns, "", found, skipped)
    return list(dict.fromkeys(found)), list(dict.fromkeys(skipped))


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def _linked_pages(base_url: str, page_url: str, html: str, seen_routes: set[str]) -> list[str]:
    """Same-site links to pages with parameters that are not secrets: one example per route
    (e.g. a policy version and its diff). Token pages are never scanned: their links are
    personal, and opening them can confirm or change something."""
    parser = _Links()
    parser.feed(html)
    base = urlsplit(base_url)
    found = []
    for href in parser.hrefs:
        url = urlsplit(urljoin(page_url, href))
        if url.scheme not in {"http", "https"} or url.netloc != base.netloc:
            continue
        path = url.path
        try:
            match = resolve(path)
        except Resolver404:
            continue
        if not (match.args or match.kwargs) or EXCLUDED_NAMESPACES & set(match.namespaces):
            continue
        if any("token" in name for name in match.kwargs) or match.route in seen_routes:
            continue
        seen_routes.add(match.route)
        found.append(path)
    return found


# --- The browser -------------------------------------------------------------------------


def browser_check() -> Path:
    """The Chromium to drive, or ScanError saying what to install. Never a downloaded
    browser: Playwright drives the system's (CHROMIUM_PATH, default Debian's)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        raise ScanError(
            "Playwright is not installed: `pip install playwright` (the browser itself is "
            "Debian's chromium package; never `playwright install`)."
        ) from error
    executable = Path(os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM))
    if not executable.exists():
        raise ScanError(
            f"No Chromium at {executable}: install Debian's `chromium` package "
            "(or set CHROMIUM_PATH)."
        )
    return executable


def _launch_args(base_url: str, *, online: bool) -> list[str]:
    if online:
        return CHROMIUM_ARGS
    host = urlsplit(base_url).hostname
    rules = ["MAP * ~NOTFOUND", "EXCLUDE localhost", "EXCLUDE 127.0.0.1", f"EXCLUDE {host}"]
    return [*CHROMIUM_ARGS, "--host-resolver-rules=" + ", ".join(dict.fromkeys(rules))]


def _cookie_key(cookie: dict) -> str:
    return f"{cookie['name']}@{cookie['domain']}{cookie['path']}"


def _pages_probe(
    playwright, base_url: str, paths: list[str], *, follow_links: bool
) -> tuple[list[str], list[str]]:
    """Which paths answer GET (a POST-only endpoint answers 405 and is left out), plus one
    linked example of each parameterised public route. Also proves the site is reachable."""
    from playwright.sync_api import Error as PlaywrightError

    api = playwright.request.new_context(base_url=base_url, timeout=NAVIGATION_TIMEOUT_MS)
    pages, skipped = [], []
    # Routes already covered by a given path need no linked example.
    seen_routes = set()
    for path in paths:
        with contextlib.suppress(Resolver404):
            seen_routes.add(resolve(urlsplit(path).path).route)
    queue = list(paths)
    linked_from = set(paths) if follow_links else set()
    try:
        while queue:
            path = queue.pop(0)
            try:
                response = api.get(path, max_redirects=5)
            except PlaywrightError as error:
                if not pages:
                    raise ScanError(f"Cannot reach {base_url}{path}: {error}") from error
                skipped.append(f"{path} (unreachable: {error})")
                continue
            if response.status == 405:
                skipped.append(f"{path} (answers GET with 405)")
                continue
            pages.append(path)
            if path in linked_from and "html" in response.headers.get("content-type", ""):
                url = response.url
                for linked in _linked_pages(base_url, url, response.text(), seen_routes):
                    if linked not in pages and linked not in queue:
                        queue.append(linked)
    finally:
        api.dispose()
    return pages, skipped


class _Context:
    """One consent setting's browser context: an empty cookie jar to start with, every
    request it makes (and which are still in flight), and the cookies already seen, so each
    cookie is credited to the page that set it."""

    def __init__(self, browser, *, base_url: str, setting: ConsentSetting):
        self.base_url, self.setting = base_url, setting
        self.base_host = urlsplit(base_url).hostname
        self.context = browser.new_context()
        self.context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        self.urls: list[str] = []
        self.pending: set = set()
        self.status, self.html = 0, False
        self.seen: set[str] = set()
        self.granted: list[str] = []
        self.context.on("request", self._started)
        self.context.on("requestfinished", self._ended)
        self.context.on("requestfailed", self._ended)
        self.context.on("response", self._answered)
        self.page = self.context.new_page()

    def _started(self, request) -> None:
        self.urls.append(request.url)
        self.pending.add(request)

    def _ended(self, request) -> None:
        self.pending.discard(request)

    def _answered(self, response) -> None:
        request = response.request
        if request.is_navigation_request() and request.frame.parent_frame is None:
            self.status = response.status
            self.html = "html" in response.headers.get("content-type", "")

    def _settle(self) -> None:
        """Wait until no request has been in flight for QUIET_MS (late trackers, tags
        loading tags), at most SETTLE_TIMEOUT_MS. Playwright's `networkidle` waits a fixed
        500 ms on every page, which would make the scan twice as slow."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_MS / 1000
        quiet_since = None
        while (now := time.monotonic()) < deadline:
            if self.pending:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= QUIET_MS / 1000:
                return
            self.page.wait_for_timeout(20)

    def _open(self, path: str) -> None:
        from playwright.sync_api import Error as PlaywrightError

        self.status, self.html = 0, False
        try:
            self.page.goto(self.base_url + path, wait_until="load")
        except PlaywrightError as error:
            # A download (the consent receipt) is a visit too: its cookies count.
            if "Download is starting" not in str(error):
                raise
        if self.html:  # only a document runs scripts that could still set or fetch something
            self._settle()

    def decide(self, cookies_path: str) -> Visit:
        """Record the setting's decision the way a visitor does, through the consent form
        on the cookie page; the site's answer says what is granted now."""
        started, first = time.monotonic(), len(self.urls)
        self._open(cookies_path)
        result = self.page.evaluate(_DECIDE_JS, list(self.setting.accepted or ()))
        body = result.get("body") or {}
        if result.get("status") != 200 or not isinstance(body.get("categories"), dict):
            raise ScanError(
                f"Could not record the decision '{self.setting.label}' on {cookies_path} "
                f"(status {result.get('status')}): "
                f"{body.get('error') or 'no consent form found'}"
            )
        self.granted = sorted(slug for slug, granted in body["categories"].items() if granted)
        return self._observed(cookies_path, started, first, decision=True)

    def visit(self, path: str) -> Visit:
        started, first = time.monotonic(), len(self.urls)
        self._open(path)
        return self._observed(path, started, first)

    def _observed(self, path: str, started: float, first: int, decision: bool = False) -> Visit:
        gated = self.page.evaluate(_GATED_SCRIPTS_JS)
        cookies = self.context.cookies()
        new = [c["name"] for c in cookies if _cookie_key(c) not in self.seen]
        self.seen.update(_cookie_key(c) for c in cookies)
        requests = self.urls[first:]
        return Visit(
            path=path,
            setting=self.setting.label,
            status=self.status,
            cookies=[{key: c[key] for key in ("name", "domain", "path")} for c in cookies],
            new_cookies=new,
            requests=requests,
            third_party=[url for url in requests if not _is_first_party(url, self.base_host)],
            gated_hosts=[
                (category, urlsplit(urljoin(self.base_url + path, src)).hostname or "")
                for category, src in gated
                if src
            ],
            granted=self.granted,
            seconds=round(time.monotonic() - started, 3),
            decision=decision,
        )

    def close(self) -> None:
        self.context.close()


def _is_first_party(url: str, base_host: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in {"http", "https", "ws", "wss"} or parts.hostname == base_host


def scan_run(
    *,
    base_url: str,
    paths: Iterable[str],
    declarations: Declarations,
    cookies_path: str,
    online: bool = False,
    follow_links: bool = True,
    progress: Callable[[int, int, Visit], None] | None = None,
    cancelled: threading.Event | None = None,
) -> ScanReport:
    """Visit every page in every consent setting and report what breaks the declarations.

    With `follow_links`, pages linked from `paths` that need a parameter are scanned too
    (one example per route). Each consent setting gets a fresh browser context (an empty
    cookie jar); its decision is recorded first, on the cookie page, then every page is
    visited in turn. Must not run in a thread with a running event loop (Playwright's sync
    API; the command uses a thread)."""
    executable = browser_check()
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    base_url = base_url.rstrip("/")
    settings_list = consent_settings(declarations)
    visits: list[Visit] = []
    try:
        with sync_playwright() as playwright:
            pages, skipped = _pages_probe(
                playwright, base_url, list(dict.fromkeys(paths)), follow_links=follow_links
            )
            browser = playwright.chromium.launch(
                executable_path=str(executable), args=_launch_args(base_url, online=online)
            )
            total, index = len(pages) * len(settings_list), 0
            try:
                for setting in settings_list:
                    context = _Context(browser, base_url=base_url, setting=setting)
                    if setting.decided:
                        visits.append(context.decide(cookies_path))
                    for path in pages:
                        if cancelled is not None and cancelled.is_set():
                            raise ScanCancelled()
                        index += 1
                        visits.append(context.visit(path))
                        if progress is not None:
                            progress(index, total, visits[-1])
                    context.close()
            finally:
                browser.close()
    except PlaywrightError as error:
        raise ScanError(f"The browser failed: {error}") from error
    base_host = urlsplit(base_url).hostname or ""
    return ScanReport(
        base_url=base_url,
        pages=pages,
        skipped=skipped,
        settings=[s.label for s in settings_list],
        visits=visits,
        findings=findings_from(visits=visits, declarations=declarations, base_host=base_host),
    )


# --- Comparing with the declarations -----------------------------------------------------


def findings_from(
    *, visits: list[Visit], declarations: Declarations, base_host: str
) -> list[Finding]:
    """Every way the visits break the declarations, each reported once: an undeclared
    cookie once for the whole scan, a cookie or host without consent once per setting."""
    gated: dict[str, set[str]] = {}
    for visit in visits:
        for category, host in visit.gated_hosts:
            if host and host != base_host:
                gated.setdefault(host, set()).add(category)
    findings: dict[tuple[str, str, str], Finding] = {}

    def add(finding: Finding, *key: str) -> None:
        findings.setdefault((finding.kind, *key), finding)

    first_seen: dict[tuple[str, str], str] = {}
    for visit in visits:
        for name in visit.new_cookies:
            first_seen.setdefault((visit.setting, name), visit.path)
    for visit in visits:
        allowed = set(visit.granted) | declarations.necessary
        for cookie in visit.cookies:
            name = cookie["name"]
            page = first_seen.get((visit.setting, name), visit.path)
            declared = declarations.cookie(name)
            if declared is None:
                add(
                    Finding(
                        UNDECLARED_COOKIE,
                        name,
                        "",
                        visit.setting,
                        page,
                        f"set by {cookie['domain']}; not in any cookie category",
                    ),
                    name,
                    "",
                )
            elif declared.category not in allowed:
                add(
                    Finding(
                        COOKIE_WITHOUT_CONSENT,
                        name,
                        declared.category,
                        visit.setting,
                        page,
                        f"declared as {declared.pattern} ({declared.category}), "
                        f"set without {declared.category} consent",
                    ),
                    name,
                    visit.setting,
                )
        for url in visit.third_party:
            host = urlsplit(url).hostname or url
            categories = declarations.host_categories(host) | gated.get(host, set())
            if categories & allowed:
                continue
            detail = (
                f"belongs to {', '.join(sorted(categories))}, not consented"
                if categories
                else "declared under no cookie category"
            )
            add(
                Finding(
                    THIRD_PARTY_WITHOUT_CONSENT,
                    host,
                    ", ".join(sorted(categories)),
                    visit.setting,
                    visit.path,
                    f"{detail}: {url[:120]}",
                ),
                host,
                visit.setting,
            )
    return list(findings.values())
