import contextlib
import json
import logging
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from consent.scanner import (
    ScanError,
    ScanReport,
    Visit,
    browser_check,
    declarations_load,
    pages_from_urlconf,
    scan_run,
)

SETUP_ERROR = 2


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@contextlib.contextmanager
def _portal_served():
    """This portal on a free local port, in this process, against the configured database
    (what `make run` migrated and filled with the demo)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from django.test.utils import override_settings

    if settings.SECURE_SSL_REDIRECT:
        raise CommandError(
            "The portal started here serves plain HTTP, and SECURE_SSL_REDIRECT sends every "
            "page to https: scan the deployed site with --url https://..., or run with "
            "DJANGO_DEBUG=true.",
            returncode=SETUP_ERROR,
        )
    # The scan provokes 404s and 405s (the receipt without a decision, POST-only URLs, the
    # favicon): the portal's warnings about them would bury the progress lines.
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "127.0.0.1"]):
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error is not None:
            raise CommandError(
                f"Could not start the portal: {server.error}", returncode=SETUP_ERROR
            )
        try:
            yield f"http://127.0.0.1:{server.port}"
        finally:
            server.terminate()
            request_log.setLevel(level)


class Command(BaseCommand):
    help = (
        "Open every public page in headless Chromium, without a cookie decision and with each "
        "optional category accepted, and report undeclared cookies, cookies set without "
        "consent and third-party hosts contacted without consent. Exits 1 when it finds "
        "any, 2 when the scan cannot run."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url",
            help="The site to scan, e.g. http://127.0.0.1:8000 (default: start this portal "
            "on a free local port against the configured database).",
        )
        parser.add_argument(
            "--path",
            dest="paths",
            action="append",
            default=[],
            metavar="PATH",
            help="Another page to scan, e.g. /privacy/v/1/ (repeatable).",
        )
        parser.add_argument(
            "--only",
            action="store_true",
            help="Scan only the pages given with --path (not the URLconf's, nor their links).",
        )
        parser.add_argument(
            "--json", dest="json_path", metavar="FILE", help="Also write the full report here."
        )
        parser.add_argument(
            "--online",
            action="store_true",
            help="Let the browser resolve outside hosts (by default no request leaves the "
            "machine; a request attempted still counts as contacted).",
        )

    def handle(self, *args, url: str | None, paths: list[str], json_path: str | None, **options):
        self.verbosity = options["verbosity"]
        try:
            browser_check()
        except ScanError as error:
            raise CommandError(str(error), returncode=SETUP_ERROR) from error
        pages, parameterised = pages_from_urlconf()
        given = [path if path.startswith("/") else f"/{path}" for path in paths]
        if options["only"]:
            if not given:
                raise CommandError("--only needs at least one --path.", returncode=SETUP_ERROR)
            pages, parameterised = given, []
        else:
            pages += given
        try:
            cookies_path = reverse("consent:cookies")
        except NoReverseMatch:
            raise CommandError(
                "The consent app's URLs are not installed (no 'consent:cookies'): the scan "
                "records decisions through its cookie page.",
                returncode=SETUP_ERROR,
            ) from None
        if url and urlsplit(url).scheme not in {"http", "https"}:
            raise CommandError(
                f"--url needs http:// or https://, not {url!r}.", returncode=SETUP_ERROR
            )
        # The database is read here, before the browser's event loop exists.
        try:
            declarations = declarations_load()
        except DatabaseError as error:
            raise CommandError(
                f"Cannot read the cookie declarations: {error}", returncode=SETUP_ERROR
            ) from error
        if not (declarations.optional or declarations.necessary):
            raise CommandError(
                "No cookie categories in the configured database: is it migrated, and is it "
                "the scanned site's database?",
                returncode=SETUP_ERROR,
            )

        with contextlib.ExitStack() as stack:
            base_url = url or stack.enter_context(_portal_served())
            if self.verbosity >= 1:
                self.stdout.write(f"Scanning {base_url} ...")
            report = self._scan(
                base_url,
                pages,
                declarations,
                cookies_path,
                online=options["online"],
                follow_links=not options["only"],
            )

        not_scanned = self._routes_left_out(parameterised, report)
        if json_path:
            data = report.as_dict() | {"routes_left_out": not_scanned}
            Path(json_path).write_text(_dumps(data), encoding="utf-8")
        self._summary(report, not_scanned)
        if not report.ok:
            sys.exit(1)

    def _scan(
        self, base_url, pages, declarations, cookies_path, *, online, follow_links
    ) -> ScanReport:
        # Playwright's sync API refuses to start in a thread whose event loop runs (inside
        # async code, or a test session already driving a browser): give it its own thread.
        cancelled = threading.Event()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan_cookies") as pool:
            future = pool.submit(
                scan_run,
                base_url=base_url,
                paths=pages,
                declarations=declarations,
                cookies_path=cookies_path,
                online=online,
                follow_links=follow_links,
                progress=self._progress,
                cancelled=cancelled,
            )
            try:
                return future.result()
            except ScanError as error:
                raise CommandError(str(error), returncode=SETUP_ERROR) from error
            except KeyboardInterrupt:
                cancelled.set()  # stops at the next page; the browser closes cleanly
                raise
            except Exception as error:
                # Exit status 1 means findings: a crash must not look like one in CI.
                raise CommandError(
                    f"The scan failed: {error!r} (--traceback shows where)",
                    returncode=SETUP_ERROR,
                ) from error

    def _progress(self, index: int, total: int, visit: Visit) -> None:
        if self.verbosity < 1:
            return
        status = "" if visit.status == 200 else f" [{visit.status}]"
        line = (
            f"[{index}/{total}] {visit.path} ({visit.setting}){status}: "
            f"{_plural(len(visit.cookies), 'cookie')}, "
            f"{_plural(len(visit.third_party), 'third-party request')}"
        )
        if self.verbosity >= 2:
            new = f"; new: {', '.join(visit.new_cookies)}" if visit.new_cookies else ""
            line += f" ({visit.seconds:.2f} s{new})"
        self.stdout.write(line)

    def _routes_left_out(self, parameterised: list[str], report: ScanReport) -> list[str]:
        covered = set()
        for page in report.pages:
            with contextlib.suppress(Resolver404):
                covered.add("/" + resolve(page.split("?", 1)[0]).route)
        return [route for route in parameterised if route not in covered]

    def _summary(self, report: ScanReport, not_scanned: list[str]) -> None:
        if self.verbosity >= 1:
            for skipped in report.skipped:
                self.stdout.write(f"Not scanned: {skipped}")
            if not_scanned:
                names = ", ".join(not_scanned) if self.verbosity >= 2 else "-v 2 lists them"
                self.stdout.write(
                    f"Not scanned: {_plural(len(not_scanned), 'route')} that need a token or "
                    f"another parameter ({names}); add pages with --path."
                )
        scope = (
            f"{_plural(len(report.pages), 'page')} in "
            f"{_plural(len(report.settings), 'consent setting')}"
        )
        if report.ok:
            if self.verbosity >= 1:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"No findings ({scope}): every cookie is declared, and nothing was set "
                        "or contacted without consent."
                    )
                )
            return
        rows = [("finding", "cookie or host", "category", "consent", "first page", "detail")]
        rows += [
            (f.kind, f.subject, f.category or "-", f.setting, f.page, f.detail)
            for f in report.findings
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
        self.stdout.write(
            self.style.ERROR(f"{_plural(len(report.findings), 'finding')} ({scope}):")
        )
        for number, row in enumerate(rows):
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            line = "  ".join([*cells, row[-1]])
            self.stdout.write(self.style.MIGRATE_HEADING(line) if number == 0 else line)


def _dumps(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
