"""Load without loss: a mixed workload against gunicorn on PostgreSQL, then a database audit.

Run: .venv/bin/python bench/load.py [--requests 4000] [--seconds 120] [--concurrency 8]
                                    [--workers 4] [--cache-url redis://127.0.0.1:6379/3]

It creates a throw-away PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/portal_bench_load), starts the portal under gunicorn with
production settings (debug off, database task queue, rate limits raised: every request comes
from 127.0.0.1), and drives it from this (second) process over keep-alive connections: page
views, new visitors' cookie decisions (plain form and the module's JSON, each made on the
banner of the first-visit policy page the visitor has just been served, with that page's
CSRF cookie and token: with --cache-url, a page one worker rendered must work with another;
these first visits come on top of --requests and are counted apart), data-subject
requests (each from a distinct address) and confirmations of those requests through the
link in their mail. It stops after --requests requests or --seconds, whichever comes first.

Then it checks the database: every decision answered 2xx/303 has exactly one consent-log
row, every request answered 303 is stored once with its event and its mail, every confirmed
request is in the queue with a reference and its acknowledgement. It prints throughput,
p50/p99 per kind against bare Django views measured in the same run, 5xx and loss counts,
and exits non-zero on any loss, 5xx or unexpected status.

--cache-url points the portal at a shared cache as deployed (Redis); that cache is FLUSHED
first, so give it a database of its own.
"""

import argparse
import collections
import http.client
import itertools
import json
import os
import random
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

import psycopg
from django.core import signing
from harness import Server, csrf_pair, drive, percentile, recreate_database

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench_load"
PAGES = ["/", "/privacy/", "/privacy/history/", "/privacy/v/2/diff/", "/cookies/", "/requests/new/"]
# Share of each kind in the mix (a confirmation needs an earlier submission; until one is
# there, that slot is a page view).
MIX = {"page": 50, "consent form": 14, "consent JSON": 14, "request": 13, "confirm": 9}
EXPECTED = {"page": 200, "consent form": 303, "consent JSON": 200, "request": 303, "confirm": 303}
# A new visitor's first page, fetched just before each decision (not part of MIX).
FIRST_VISIT = "first visit (banner)"
FIRST_VISIT_PAGES = ["/privacy/", "/privacy/history/", "/privacy/v/2/diff/"]
EXPECTED[FIRST_VISIT] = 200
REFERENCE = {"page": "bare page (reference)", FIRST_VISIT: "bare page (reference)"}
BANNER_NEXT = re.compile(r'data-consent-form>.*?name="next" value="([^"]*)"', re.DOTALL)
WRITE_REFERENCE = "bare insert (reference)"
CONSENT_SALT = "consent.cookie.v1"  # consent.cookies.SALT
VERIFY_LINK = re.compile(r"/requests/verify/([^/\s]+)/")


@dataclass
class Results:
    """What the clients saw, gathered from every thread."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    statuses: dict[str, collections.Counter] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    consent_ids: list[str] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Workload:
    """The mixed workload: a shuffled schedule of kinds shared by `concurrency` clients."""

    def __init__(self, server: Server, database_url: str, args: argparse.Namespace):
        self.port = server.port
        self.secret = server.env["DJANGO_SECRET_KEY"]
        self.database_url = database_url
        self.concurrency = args.concurrency
        self.deadline = 0.0
        rng = random.Random(7)  # noqa: S311  (a repeatable mix, not a secret)
        kinds = list(MIX)
        self.schedule = rng.choices(kinds, weights=[MIX[k] for k in kinds], k=args.requests)
        self.next_index = itertools.count()
        self.emails = itertools.count(1)
        self.to_confirm: collections.deque[str] = collections.deque()
        cookie, token = csrf_pair(self.port)
        self.token = token
        self.form_headers = {
            "Cookie": f"csrftoken={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        self.results = Results()

    # --- one request of each kind: (method, path, body, headers) --------------------------
    def consent(self, as_json: bool, html: bytes):
        """A decision on the banner of a first-visit page, posted as a browser posts it from
        that page (the banner's form carries no token: the portal checks the origin)."""
        found = BANNER_NEXT.search(html.decode())
        body = f"action=accept_all&scope=prompt&next={quote(found.group(1) if found else '/')}"
        headers = {
            "Origin": f"http://127.0.0.1:{self.port}",
            "Sec-Fetch-Site": "same-origin",
            "Content-Type": "application/x-www-form-urlencoded",
            **({"Accept": "application/json"} if as_json else {}),
        }
        return "POST", "/consent/", body, headers

    def submission(self, email: str):
        body = (
            f"kind=access&name=Load+Tester&email={quote(email)}&details=&website="
            f"&csrfmiddlewaretoken={self.token}"
        )
        return "POST", "/requests/new/", body, self.form_headers

    def confirmation(self, token: str):
        body = f"csrfmiddlewaretoken={self.token}"
        return "POST", f"/requests/verify/{token}/", body, self.form_headers

    # --- what an accepted answer proves -----------------------------------------------------
    def consent_id(self, kind: str, response: http.client.HTTPResponse, body: bytes) -> str:
        if kind == "consent JSON":
            return str(uuid.UUID(json.loads(body)["consentId"]))
        for header in response.msg.get_all("Set-Cookie") or []:
            if header.startswith("portal_consent="):
                value = header.split(";", 1)[0].split("=", 1)[1].strip('"')
                data = signing.loads(value, key=self.secret, salt=CONSENT_SALT, fallback_keys=[])
                return str(uuid.UUID(data["id"]))
        raise ValueError("a decision answered without its cookie")

    def verify_token(self, db: psycopg.Connection, email: str) -> str:
        """The token in the request's mail, as the requester reads it in their inbox."""
        text = db.execute(
            'SELECT text FROM privacy_portal_outgoingemail WHERE "to" = %s '
            "AND kind = 'request_verification'",
            [email],
        ).fetchone()[0]
        return VERIFY_LINK.search(text).group(1)

    # --- the clients ---------------------------------------------------------------------
    def client(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        db = psycopg.connect(self.database_url, autocommit=True)
        pages = itertools.cycle(PAGES)
        first_pages = itertools.cycle(FIRST_VISIT_PAGES)
        latencies, statuses = (
            collections.defaultdict(list),
            collections.defaultdict(collections.Counter),
        )
        consent_ids, submitted, confirmed = [], [], []
        while time.monotonic() < self.deadline:
            index = next(self.next_index)
            if index >= len(self.schedule):
                break
            kind = self.schedule[index]
            email = ""
            if kind == "confirm":
                try:
                    email = self.to_confirm.popleft()
                except IndexError:
                    kind = "page"
            if kind == "page":
                request = ("GET", next(pages), None, {})
            elif kind.startswith("consent"):
                first_visit = ("GET", next(first_pages), None, {})
                status, response, content = self.send(conn, first_visit, latencies[FIRST_VISIT])
                statuses[FIRST_VISIT][status] += 1
                if status != EXPECTED[FIRST_VISIT]:
                    conn = self.reconnect(conn, status)
                    continue
                request = self.consent(kind == "consent JSON", content)
            elif kind == "request":
                email = f"load-{next(self.emails):06d}@example.org"
                request = self.submission(email)
            else:
                request = self.confirmation(self.verify_token(db, email))
            status, response, content = self.send(conn, request, latencies[kind])
            conn = self.reconnect(conn, status)
            statuses[kind][status] += 1
            if status != EXPECTED[kind]:
                continue
            if kind.startswith("consent"):
                consent_ids.append(self.consent_id(kind, response, content))
            elif kind == "request":
                submitted.append(email)
                self.to_confirm.append(email)
            elif kind == "confirm":
                confirmed.append(email)
        conn.close()
        db.close()
        results = self.results
        with results.lock:
            for kind, values in latencies.items():
                results.latencies[kind].extend(values)
                results.statuses[kind].update(statuses[kind])
            results.consent_ids.extend(consent_ids)
            results.submitted.extend(submitted)
            results.confirmed.extend(confirmed)

    @staticmethod
    def send(conn: http.client.HTTPConnection, request: tuple, latencies: list[float]) -> tuple:
        """Send one request; (status, response, body), status 0 when the connection failed."""
        method, path, body, headers = request
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            answer = response.status, response, response.read()
        except (OSError, http.client.HTTPException):
            answer = 0, None, b""
        latencies.append(time.perf_counter() - started)
        return answer

    def reconnect(self, conn: http.client.HTTPConnection, status: int):
        """A new connection after a failed one (status 0), else the same."""
        if status:
            return conn
        conn.close()
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def run(self, seconds: float) -> float:
        threads = [threading.Thread(target=self.client) for _ in range(self.concurrency)]
        started = time.perf_counter()
        self.deadline = time.monotonic() + seconds
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started


def audit(database_url: str, results: Results) -> dict[str, int]:
    """What the database holds for what the clients were told was accepted."""
    with psycopg.connect(database_url, autocommit=True) as db:
        rows = dict(
            db.execute(
                "SELECT consent_id::text, count(*) FROM consent_consentrecord "
                "WHERE consent_id = ANY(%s::uuid[]) GROUP BY consent_id",
                [results.consent_ids],
            ).fetchall()
        )
        log_rows = db.execute("SELECT count(*) FROM consent_consentrecord").fetchone()[0]
        requests = {
            email: (status, reference, events, mails)
            for email, status, reference, events, mails in db.execute(
                """
                SELECT r.email, r.status, r.reference,
                       array(SELECT action FROM requests_app_requestevent e
                             WHERE e.request_id = r.id ORDER BY e.id),
                       array(SELECT kind FROM privacy_portal_outgoingemail m
                             WHERE m.related = 'requests_app.datasubjectrequest:' || r.id
                             ORDER BY m.id)
                FROM requests_app_datasubjectrequest r WHERE r.email LIKE 'load-%%'
                """
            ).fetchall()
        }
        stored = db.execute(
            "SELECT count(*) FROM requests_app_datasubjectrequest WHERE email LIKE 'load-%%'"
        ).fetchone()[0]
        # A mail whose delivery task was never queued would wait for the cron sweep.
        mails_without_task = db.execute(
            """
            SELECT count(*) FROM privacy_portal_outgoingemail m WHERE NOT EXISTS (
                SELECT 1 FROM django_tasks_database_dbtaskresult t
                WHERE t.task_path = 'privacy_portal.outbox.email_deliver'
                AND t.args_kwargs -> 'args' ->> 0 = m.id::text)
            """
        ).fetchone()[0]
        mails = db.execute("SELECT count(*) FROM privacy_portal_outgoingemail").fetchone()[0]

    consent_lost = sum(1 for consent_id in results.consent_ids if consent_id not in rows)
    consent_doubled = sum(1 for count in rows.values() if count > 1)
    submitted_missing = sum(
        1
        for email in results.submitted
        if email not in requests
        or requests[email][2][:1] != ["submitted"]
        or "request_verification" not in requests[email][3]
    )
    confirmed = set(results.confirmed)
    not_in_queue = sum(
        1
        for email in confirmed
        if email not in requests
        or requests[email][0] != "verified"
        or not requests[email][1]
        or "verified" not in requests[email][2]
        or "request_acknowledgement" not in requests[email][3]
    )
    return {
        "decisions accepted": len(results.consent_ids),
        "distinct visitors": len(set(results.consent_ids)),
        "log rows for them": sum(rows.values()),
        "log rows in all": log_rows,
        "decisions without a row": consent_lost,
        "decisions with several rows": consent_doubled,
        "requests accepted": len(results.submitted),
        "requests stored": stored,
        "requests missing or incomplete": submitted_missing,
        "requests confirmed": len(confirmed),
        "confirmed but not in the queue": not_in_queue,
        "mails in the outbox": mails,
        "mails without a delivery task": mails_without_task,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="at most this many")
    parser.add_argument("--seconds", type=float, default=120, help="at most this long")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2)
    parser.add_argument("--reference-requests", type=int, default=1000)
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", ""))
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    recreate_database(database_url)
    env = {}
    if args.cache_url:
        import redis

        redis.Redis.from_url(args.cache_url).flushdb()
        env["CACHE_URL"] = args.cache_url

    with Server(database_url, args.workers, env=env) as server:
        with psycopg.connect(database_url, autocommit=True) as db:
            db.execute("CREATE TABLE bench_bare_insert (id bigserial PRIMARY KEY, payload bytea)")
        bare_page = ("GET", "/bench/page/", None, {})
        bare_insert = ("POST", "/bench/insert/", "x", {"Content-Type": "text/plain"})
        workload = Workload(server, database_url, args)
        for warm in (bare_page, bare_insert, ("GET", "/privacy/", None, {})):
            drive(server.port, lambda warm=warm: warm, args.concurrency * 10, args.concurrency)
        references = {
            "bare page (reference)": drive(
                server.port, lambda: bare_page, args.reference_requests, args.concurrency
            ),
            WRITE_REFERENCE: drive(
                server.port, lambda: bare_insert, args.reference_requests, args.concurrency
            ),
        }
        elapsed = workload.run(args.seconds)
        results = workload.results
    checks = audit(database_url, results)

    total = sum(len(values) for values in results.latencies.values())
    print(
        f"gunicorn {args.workers} workers, PostgreSQL, cache "
        f"{'Redis' if args.cache_url else 'per process'}, {args.concurrency} connections; "
        f"mixed run: {total} requests in {elapsed:.1f} s (limits {args.requests} / "
        f"{args.seconds:.0f} s)"
    )
    print(f"{'':28}{'count':>7}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'p50 ratio':>11}  statuses")
    for name, result in references.items():
        print(
            f"{name:28}{result['count']:>7}{result['rps']:>8.0f}{result['p50']:>9.1f}"
            f"{result['p99']:>9.1f}{1:>11.2f}  {dict(result['statuses'])}"
        )
    for kind in [*MIX, FIRST_VISIT]:
        values = sorted(results.latencies.get(kind, []))
        if not values:
            continue
        reference = references[REFERENCE.get(kind, WRITE_REFERENCE)]["p50"]
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        print(
            f"{kind:28}{len(values):>7}{len(values) / elapsed:>8.0f}{p50:>9.1f}{p99:>9.1f}"
            f"{p50 / reference:>11.2f}  {dict(results.statuses[kind])}"
        )
    print(f"{'mixed, all kinds':28}{total:>7}{total / elapsed:>8.0f}")

    errors = sum(
        count
        for statuses in results.statuses.values()
        for status, count in statuses.items()
        if status >= 500 or status == 0
    )
    unexpected = sum(
        count
        for kind, statuses in results.statuses.items()
        for status, count in statuses.items()
        if status != EXPECTED[kind] and 0 < status < 500
    )
    lost = (
        checks["decisions without a row"]
        + checks["decisions with several rows"]
        + checks["requests missing or incomplete"]
        + checks["confirmed but not in the queue"]
        + checks["mails without a delivery task"]
    )
    print("; ".join(f"{name}: {value}" for name, value in checks.items()))
    print(f"5xx or dropped: {errors}, other unexpected statuses: {unexpected}, lost: {lost}")
    ok = not (lost or errors or unexpected)
    print("PASS: nothing lost, no 5xx" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
