"""Fault scenarios: the mail server refusing, the database going away, a worker killed in the
middle of an erasure. Each prints its evidence and PASS or FAIL; the exit status is non-zero
if any fails.

Run: .venv/bin/python bench/faults.py [mail] [database] [erasure] [redis]   (default: all four)
     [--database-url postgres://postgres@127.0.0.1:5432/portal_bench_faults]

Each scenario works on a throw-away database of its own, named after --database-url (or
BENCH_DATABASE_URL) with a suffix (_mail, _away, _erasure). The erasure scenario also runs
on SQLite (`--database-url sqlite:////tmp/faults.sqlite3`), as the test suite does.

mail      The portal under gunicorn with the database task queue and its worker
          (`manage.py db_worker`), SMTP pointed at a closed port on 127.0.0.1. A request
          submitted over HTTP is stored with its mail in the outbox; the worker tries, fails
          and retries (EMAIL_RETRY_SECONDS shortened to 1 s); then a small SMTP server
          starts on that port, the mail is delivered, its link confirms the request and the
          acknowledgement follows.
database  The portal under gunicorn while clients submit requests and cookie decisions;
          the database stops accepting connections and its sessions are terminated
          (ALLOW_CONNECTIONS false + pg_terminate_backend). Pages answer the friendly 503
          with Retry-After (JSON for JSON clients), /healthz 503; then the database is back,
          pages answer 200, and nothing is half-written: every stored request has its event
          and its mail, every accepted answer is stored, no mail points at a missing request.
          Then the database ends every session while the portal is idle, as a restart does:
          the next decisions and health checks answer 200 at once (no 503 on the way).
erasure   An erasure runs in a child process that is SIGKILLed after every app's source has
          erased its records, inside the erasure's transaction. Nothing was erased (the
          subject's records are as before, no erasure items, no event); running the erasure
          again completes it, and another person's data is untouched throughout.
redis     The portal under gunicorn with CACHE_URL on a redis-server of the scenario's own
          (never a shared one), under a small load of cookie decisions, requests, contact
          messages and staff sign-ins; Redis is killed, then started again (empty) on the same
          port. Everything answers as before (no 500, no dropped connection, no stall), every
          acknowledged submission is stored, /healthz says 200 "degraded" with the cache
          "unreachable" meanwhile, each worker logs the outage once and its end, and Redis is
          used again once it is back.
"""

import argparse
import contextlib
import email
import email.policy
import http.client
import json
import os
import re
import secrets
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, urlparse

import psycopg
from harness import (
    ROOT,
    RedisServer,
    Server,
    csrf_pair,
    database_name,
    free_port,
    percentile,
    recreate_database,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench_faults"
SUBJECT = "erin@example.org"  # the person whose data is erased
BYSTANDER = "otto@example.org"  # someone else, whose data must never change
FRIENDLY = "Briefly unavailable"  # the 503 page's heading


class Report:
    """One scenario's checks: each printed with its evidence as it is made."""

    def __init__(self, name: str):
        self.name = name
        self.failed: list[str] = []
        self.started = time.monotonic()
        print(f"--- {name}")

    def check(self, label: str, ok: bool, evidence: object = "") -> bool:
        print(f"  {'ok  ' if ok else 'FAIL'} {label}" + (f": {evidence}" if evidence != "" else ""))
        if not ok:
            self.failed.append(label)
        return ok

    def verdict(self) -> bool:
        elapsed = time.monotonic() - self.started
        print(f"{'PASS' if not self.failed else 'FAIL'} {self.name} ({elapsed:.0f} s)")
        return not self.failed


def wait_for(condition: Callable[[], object], timeout: float, interval: float = 0.2) -> object:
    """Poll until `condition()` is truthy (and return it) or the time is up (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    return None


def fetch(port: int, method: str, path: str, body: str | None = None, headers=None):
    """(status, headers, body text) of one request on a fresh connection; 0 if none came."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as error:
        return 0, {}, str(error)
    finally:
        conn.close()


class Browser:
    """One visitor's CSRF pair, to post the portal's forms."""

    def __init__(self, port: int):
        self.port = port
        self.cookie, self.token = csrf_pair(port)

    def post(self, path: str, fields: dict[str, str], *, json_answer: bool = False):
        body = "&".join(
            f"{k}={quote(v)}" for k, v in {**fields, "csrfmiddlewaretoken": self.token}.items()
        )
        headers = {
            "Cookie": f"csrftoken={self.cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
            **({"Accept": "application/json"} if json_answer else {}),
        }
        return fetch(self.port, "POST", path, body, headers)

    def submit_request(self, address: str):
        fields = {"kind": "access", "name": "Fault Tester", "email": address, "details": ""}
        return self.post("/requests/new/", {**fields, "website": ""})

    def decide(self):
        fields = {"action": "accept_all", "scope": "prompt", "next": "/"}
        return self.post("/consent/", fields, json_answer=True)


# --- a) the mail server refuses ---------------------------------------------------------


class SmtpSink(socketserver.ThreadingTCPServer):
    """The smallest SMTP server the portal's mailer talks to: it accepts every message."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port: int):
        self.messages: list[email.message.EmailMessage] = []
        super().__init__(("127.0.0.1", port), SmtpSession)

    def __enter__(self) -> "SmtpSink":
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class SmtpSession(socketserver.StreamRequestHandler):
    def reply(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")

    def handle(self) -> None:
        self.reply(b"220 sink ESMTP")
        data: list[bytes] | None = None
        while line := self.rfile.readline():
            if data is not None:
                if line.rstrip(b"\r\n") == b".":
                    message = email.message_from_bytes(b"".join(data), policy=email.policy.default)
                    self.server.messages.append(message)
                    data = None
                    self.reply(b"250 queued")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                data = []
                self.reply(b"354 end with <CRLF>.<CRLF>")
            elif verb == b"QUIT":
                self.reply(b"221 bye")
                return
            else:  # EHLO/HELO, MAIL, RCPT, RSET, NOOP
                self.reply(b"250 ok")


@contextlib.contextmanager
def task_worker(env: dict[str, str], log) -> Iterator[subprocess.Popen]:
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def mail_row(db: psycopg.Connection, address: str, kind: str):
    return db.execute(
        'SELECT id, status, attempts, last_error FROM privacy_portal_outgoingemail WHERE "to" = %s '
        "AND kind = %s",
        [address, kind],
    ).fetchone()


def scenario_mail(database_url: str, log) -> bool:
    report = Report("mail server refusing connections")
    recreate_database(database_url)
    smtp_port = free_port()  # bound and released: nothing listens there
    address = "mail-fault@example.org"
    env = {
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "EMAIL_TIMEOUT": "5",
        "EMAIL_RETRY_SECONDS": "1",
        "TASKS_BACKEND": "database",
    }
    server = Server(database_url, 2, env=env, log=log)
    server.env["PORTAL_BASE_URL"] = f"http://127.0.0.1:{server.port}"
    with server, task_worker(server.env, log), psycopg.connect(database_url, autocommit=True) as db:
        browser = Browser(server.port)
        status, _headers, _body = browser.submit_request(address)
        report.check(
            "the request is accepted over HTTP while mail is refused", status == 303, status
        )
        stored = db.execute(
            "SELECT r.id, r.status, array(SELECT action FROM requests_app_requestevent e "
            "WHERE e.request_id = r.id) FROM requests_app_datasubjectrequest r WHERE r.email = %s",
            [address],
        ).fetchone()
        report.check(
            "it is stored with its event", bool(stored) and stored[2] == ["submitted"], stored
        )

        def retried():
            row = mail_row(db, address, "request_verification")
            return row if row and row[2] >= 3 else None

        row = wait_for(retried, timeout=60)
        report.check(
            "its mail stays in the outbox, tried and retried by the task worker",
            bool(row) and row[1] == "pending" and "refused" in row[3].lower(),
            row and f"status {row[1]}, {row[2]} attempts, last error {row[3]!r}",
        )
        tasks = db.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'SUCCESSFUL') "
            "FROM django_tasks_database_dbtaskresult WHERE args_kwargs -> 'args' ->> 0 = %s",
            [str(row[0]) if row else "0"],
        ).fetchone()
        report.check("each attempt was a task of the worker", tasks[1] >= 3, f"{tasks} tasks")

        with SmtpSink(smtp_port) as sink:  # the demo's own queued mails arrive too

            def received() -> list:
                return [message for message in sink.messages if message["To"] == address]

            started = time.monotonic()
            sent = wait_for(
                lambda: (r := mail_row(db, address, "request_verification")) and r[1] == "sent",
                timeout=60,
            )
            row = mail_row(db, address, "request_verification")
            report.check(
                "once the mail server is back the mail is delivered",
                bool(sent) and len(received()) == 1,
                f"after {time.monotonic() - started:.1f} s, attempt {row[2]}, "
                f"{len(received())} message(s) for {address}",
            )
            text = received()[0].get_body(("plain",)).get_content() if received() else ""
            link = re.search(r"https?://[^/\s]+(/requests/verify/[^\s]+/)", text)
            status = browser.post(link.group(1), {})[0] if link else None
            queued = db.execute(
                "SELECT status, reference FROM requests_app_datasubjectrequest WHERE email = %s",
                [address],
            ).fetchone()
            report.check(
                "its link confirms the request: it is in the queue",
                status == 303 and queued[0] == "verified" and bool(queued[1]),
                f"{status}, {queued}",
            )
            acknowledged = wait_for(lambda: len(received()) >= 2, timeout=30)
            subject = received()[-1]["Subject"] if acknowledged else ""
            report.check(
                "the acknowledgement is delivered too",
                bool(acknowledged) and bool(queued[1]) and queued[1] in subject,
                subject or "nothing",
            )
    return report.verdict()


# --- b) the database goes away ------------------------------------------------------------


def database_cut(database_url: str, *, allow: bool) -> int:
    """Let the database accept connections again, or refuse them and end every session."""
    name = database_name(database_url)
    admin = urlparse(database_url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}')
    return 0 if allow else database_sessions_end(database_url)


def database_sessions_end(database_url: str) -> int:
    """End every session of the database (what a restart does to them); how many there were."""
    admin = urlparse(database_url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
            [database_name(database_url)],
        ).fetchone()[0]


class Clients:
    """Visitors submitting requests and cookie decisions until told to stop."""

    def __init__(self, port: int, count: int = 3):
        self.port = port
        self.count = count
        self.stop = threading.Event()
        self.answers: list[tuple[str, str, int]] = []  # (kind, address or consent id, status)
        self.numbers = iter(range(1, 1_000_000))
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run) for _ in range(count)]

    def run(self) -> None:
        browser = Browser(self.port)
        while not self.stop.is_set():
            with self.lock:
                number = next(self.numbers)
            address = f"away-{number:05d}@example.org"
            status, _headers, _body = browser.submit_request(address)
            self.answers.append(("request", address, status))
            status, _headers, body = browser.decide()
            consent_id = json.loads(body).get("consentId", "") if status == 200 else ""
            self.answers.append(("decision", consent_id, status))
            time.sleep(0.02)

    def __enter__(self) -> "Clients":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


PAGES = ["/", "/privacy/", "/cookies/", "/requests/new/", "/privacy/history/"]


def requests_stored(db: psycopg.Connection, like: str) -> tuple[dict[str, tuple], int]:
    """The stored requests from addresses matching `like`, each with its events' actions and
    its mails' kinds; and the number of mails whose request is missing."""
    requests = {
        address: (events, mails)
        for address, events, mails in db.execute(
            """
            SELECT r.email,
                   array(SELECT action FROM requests_app_requestevent e
                         WHERE e.request_id = r.id),
                   array(SELECT kind FROM privacy_portal_outgoingemail m
                         WHERE m.related = 'requests_app.datasubjectrequest:' || r.id)
            FROM requests_app_datasubjectrequest r WHERE r.email LIKE %s
            """,
            [like],
        ).fetchall()
    }
    orphan_mails = db.execute(
        """
        SELECT count(*) FROM privacy_portal_outgoingemail m
        WHERE m.related LIKE 'requests_app.datasubjectrequest:%%' AND NOT EXISTS (
            SELECT 1 FROM requests_app_datasubjectrequest r
            WHERE m.related = 'requests_app.datasubjectrequest:' || r.id)
        """
    ).fetchone()[0]
    return requests, orphan_mails


def decisions_logged(db: psycopg.Connection, consent_ids: list[str]) -> set[str]:
    """Which of these consent ids have a row in the consent log."""
    return {
        str(consent_id)
        for (consent_id,) in db.execute(
            "SELECT consent_id FROM consent_consentrecord WHERE consent_id = ANY(%s::uuid[])",
            [consent_ids],
        ).fetchall()
    }


def scenario_database(database_url: str, log) -> bool:
    report = Report("database going away")
    if not database_url.startswith("postgres"):
        report.check("runs on PostgreSQL only", False, database_url)
        return report.verdict()
    recreate_database(database_url)
    with Server(database_url, 2, log=log) as server:
        before = {path: fetch(server.port, "GET", path)[0] for path in PAGES}
        report.check("pages answer 200 before", set(before.values()) == {200}, before)
        browser = Browser(server.port)
        with Clients(server.port) as clients:
            time.sleep(1.5)
            ended = database_cut(database_url, allow=False)
            try:
                time.sleep(0.5)
                during = {path: fetch(server.port, "GET", path) for path in PAGES}
                # A page the cache holds whole (the banner's configuration, the rendered
                # policy) may still be served; every other one is the friendly 503.
                report.check(
                    "pages answer the friendly 503 with Retry-After, or 200 from the cache",
                    all(
                        status == 200
                        or (status == 503 and headers.get("Retry-After") and FRIENDLY in body)
                        for status, headers, body in during.values()
                    )
                    and any(status == 503 for status, _h, _b in during.values()),
                    {path: (s, h.get("Retry-After")) for path, (s, h, _b) in during.items()}
                    | {"sessions ended": ended},
                )
                health = fetch(server.port, "GET", "/healthz")
                report.check("/healthz answers 503", health[0] == 503, health[2])
                status, headers, body = browser.decide()
                report.check(
                    "a cookie decision (JSON) answers 503 in JSON",
                    status == 503
                    and headers.get("Content-Type") == "application/json"
                    and "error" in json.loads(body),
                    f"{status} {body[:60]}",
                )
                status, _headers, body = browser.submit_request("away-during@example.org")
                report.check(
                    "a request submitted during the outage answers 503",
                    status == 503 and FRIENDLY in body,
                    status,
                )
                time.sleep(2)
            finally:
                database_cut(database_url, allow=True)
            back = wait_for(lambda: fetch(server.port, "GET", "/healthz")[0] == 200, timeout=30)
            report.check("/healthz answers 200 once the database is back", bool(back))
            time.sleep(1)
        after = {path: fetch(server.port, "GET", path)[0] for path in PAGES}
        report.check("pages answer 200 again", set(after.values()) == {200}, after)
        # A restart while the portal is idle: each worker's open connection is ended, and
        # each worker must notice before its next request's first query.
        ended = database_sessions_end(database_url)
        time.sleep(0.5)
        first = [browser.decide()[0] for _ in range(4)] + [
            fetch(server.port, "GET", "/healthz")[0] for _ in range(4)
        ]
        report.check(
            "after the database ended every session while the portal was idle (a restart), "
            "the next decisions and health checks answer 200 (no 503)",
            ended > 0 and set(first) == {200},
            f"{ended} sessions ended, answers {first}",
        )

    statuses: dict[str, dict[int, int]] = {}
    for kind, _key, status in clients.answers:
        statuses.setdefault(kind, {}).setdefault(status, 0)
        statuses[kind][status] += 1
    report.check(
        "the clients saw only success or 503 (no 500, no dropped connection)",
        all(status in (200, 303, 503) for by_status in statuses.values() for status in by_status)
        and any(503 in by_status for by_status in statuses.values()),
        statuses,
    )
    accepted = [key for kind, key, status in clients.answers if kind == "request" and status == 303]
    refused = [key for kind, key, status in clients.answers if kind == "request" and status == 503]
    decisions = [
        key for kind, key, status in clients.answers if kind == "decision" and status == 200
    ]
    with psycopg.connect(database_url, autocommit=True) as db:
        requests, orphan_mails = requests_stored(db, "away-%")
        logged = decisions_logged(db, decisions)
    half_written = [
        address
        for address, (events, mails) in requests.items()
        if events != ["submitted"] or mails != ["request_verification"]
    ]
    report.check(
        "every request answered 303 is stored",
        all(address in requests for address in accepted),
        f"{len(accepted)} accepted, {sum(a in requests for a in accepted)} stored",
    )
    report.check(
        "nothing half-written: each stored request has its one event and its one mail",
        not half_written and orphan_mails == 0,
        f"{len(requests)} stored, {len(half_written)} incomplete, {orphan_mails} orphan mails",
    )
    report.check(
        "requests answered 503 were not stored",
        not any(address in requests for address in refused),
        f"{len(refused)} answered 503, {sum(a in requests for a in refused)} stored",
    )
    report.check(
        "every decision answered 200 has its log row",
        len(logged) == len(decisions),
        f"{len(decisions)} accepted, {len(logged)} logged",
    )
    return report.verdict()


# --- c) a worker killed in the middle of an erasure ----------------------------------------


def child_env(database_url: str, secret: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "privacy_portal.settings",
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secret,
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "EMAIL_URL": "dummymail://",
        "TASKS_BACKEND": "database",
    }


def run_child(role: str, env: dict[str, str], log) -> tuple[int, dict]:
    """Run this script as a child in `role`; its return code and the JSON it printed last."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", role],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return result.returncode, json.loads(lines[-1]) if lines else {}


def fresh_database(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        path = Path(urlparse(database_url).path)
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        recreate_database(database_url)


def scenario_erasure(database_url: str, log) -> bool:
    report = Report("worker killed in the middle of an erasure")
    fresh_database(database_url)
    env = child_env(database_url, secrets.token_urlsafe(50))
    for args in (
        ["migrate", "--noinput", "-v0"],
        ["load_demo", "-v0", "--password-file", os.devnull],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    run_child("seed", env, log)
    _code, before = run_child("snapshot", env, log)
    report.check(
        "the subject has records in several apps",
        len(before.get("sources", {})) >= 3,
        {source: len(items) for source, items in before.get("sources", {}).items()},
    )
    code, inside = run_child("erase-and-die", env, log)
    report.check(
        "the erasure was killed (SIGKILL) after erasing, before committing",
        code == -signal.SIGKILL and inside.get("records left") < inside.get("records before", 0),
        f"return code {code}; inside its transaction: {inside}",
    )
    _code, after_kill = run_child("snapshot", env, log)
    report.check(
        "nothing was erased: every record as before, no erasure items, no event",
        after_kill == before,
        "identical" if after_kill == before else f"before {before} after {after_kill}",
    )
    code, done = run_child("erase", env, log)
    _code, after = run_child("snapshot", env, log)
    report.check(
        "running the erasure again completes it",
        code == 0 and after["erasure items"] > 0 and after["events"].count("erased") == 1,
        f"return code {code}, {done}, events {after.get('events')}",
    )
    left = {
        source: sorted({item["purpose"] for item in items})
        for source, items in after.get("sources", {}).items()
    }
    report.check(
        "only what is kept as proof remains of the subject",
        set(after.get("sources", {})) < set(before.get("sources", {})),
        f"left: {left}",
    )
    report.check(
        "the other person's data never changed",
        after.get("bystander") == before.get("bystander") and before.get("bystander"),
        f"{len(before.get('bystander', []))} records",
    )
    return report.verdict()


# --- d) the shared cache (Redis) goes away -------------------------------------------------

STAFF = ("redis-staff", secrets.token_urlsafe(16))  # user name, password
STAFF_CREATE = (
    "from django.contrib.auth.models import User; "
    "User.objects.create_superuser({0!r}, 'redis-staff@example.org', {1!r})"
)
UNREACHABLE_LOGGED = "The shared cache (Redis) is unreachable"
BACK_LOGGED = "The shared cache (Redis) is back"


class Answer(NamedTuple):
    phase: str  # before, during (Redis away) or after (Redis back)
    kind: str
    key: str  # the address, consent id or "" that finds its row
    status: int
    seconds: float


class LoadAcrossOutage(Clients):
    """Visitors deciding about cookies and submitting requests and contact messages, and a
    staff member signing in (and once with a wrong password) to open the admin, each answer
    kept with the phase it started in and how long it took."""

    def __init__(self, port: int, count: int = 3):
        super().__init__(port, count)
        self.phase = "before"
        self.timed: list[Answer] = []
        self.threads.append(threading.Thread(target=self.staff))

    def send(self, kind: str, key: str, call: Callable[..., tuple], *args, **kwargs) -> tuple:
        """Make one call, keeping its answer (a decision's key is the consent id it got)."""
        phase, started = self.phase, time.perf_counter()
        status, headers, body = call(*args, **kwargs)
        if kind == "decision":
            key = json.loads(body).get("consentId", "") if status == 200 else ""
        self.timed.append(Answer(phase, kind, key, status, time.perf_counter() - started))
        return status, headers, body

    def run(self) -> None:
        browser = Browser(self.port)
        while not self.stop.is_set():
            with self.lock:
                number = next(self.numbers)
            address = f"redis-{number:05d}@example.org"
            self.send("request", address, browser.submit_request, address)
            self.send("decision", "", browser.decide)
            fields = {"name": "Fault Tester", "email": address, "message": "Hello", "website": ""}
            self.send("contact", address, browser.post, "/contact/", fields)
            time.sleep(0.02)

    def staff(self) -> None:
        login = "/admin/login/?next=/admin/"
        while not self.stop.is_set():
            try:
                browser = Browser(self.port)
            except (AttributeError, TypeError):  # the page with the form failed: no token
                self.timed.append(Answer(self.phase, "sign-in page", "", 0, 0.0))
                time.sleep(0.2)
                continue
            wrong = {"username": STAFF[0], "password": "not the password"}
            self.send("failed sign-in", "", browser.post, login, wrong)
            right = {"username": STAFF[0], "password": STAFF[1]}
            status, headers, _body = self.send("sign-in", "", browser.post, login, right)
            cookies = " ".join(headers.get_all("Set-Cookie") or []) if status == 302 else ""
            if session := re.search(r"sessionid=([^;]+)", cookies):
                cookie = {"Cookie": f"sessionid={session.group(1)}"}
                self.send("admin page", "", fetch, self.port, "GET", "/admin/", headers=cookie)
            time.sleep(0.2)


def statuses_by_phase(answers: list[Answer]) -> dict[str, dict[int, int]]:
    """How many answers of each status in each phase."""
    counts: dict[str, dict[int, int]] = {}
    for answer in answers:
        by_status = counts.setdefault(answer.phase, {})
        by_status[answer.status] = by_status.get(answer.status, 0) + 1
    return counts


def latencies(answers: list[Answer], phase: str) -> str:
    """p50 / p99 / slowest answer of a phase in ms (sign-ins left out: they hash a password)."""
    seconds = sorted(a.seconds for a in answers if a.phase == phase and "sign-in" not in a.kind)
    if not seconds:
        return "none"
    p50, p99 = percentile(seconds, 0.5), percentile(seconds, 0.99)
    return f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, slowest {seconds[-1] * 1000:.0f} ms"


def health(port: int) -> tuple[int, dict]:
    status, _headers, body = fetch(port, "GET", "/healthz")
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {"body": body[:80]}


PHASES = ("before", "killed", "restarted", "frozen", "thawed")


def scenario_redis(database_url: str, log) -> bool:
    report = Report("shared cache (Redis) going away")
    if not database_url.startswith("postgres"):
        report.check("runs on PostgreSQL only", False, database_url)
        return report.verdict()
    recreate_database(database_url)
    log.flush()
    log_start = log.tell()
    workers = 2
    degraded = {"status": "degraded", "database": "ok", "cache": "unreachable"}
    with RedisServer(free_port()) as redis:
        # A TOTP code is good once, so the staff member signs in with the password alone;
        # what a sign-in asks of the cache (its failure throttle) is the same either way.
        # Failed sign-ins are counted but never refuse the right password.
        env = {
            "CACHE_URL": redis.url,
            "ADMIN_REQUIRE_OTP": "false",
            "LOGIN_FAILURES_PER_USERNAME": "1000000",
            "LOGIN_FAILURES_PER_IP": "1000000",
        }
        with Server(database_url, workers, env=env, log=log) as server:
            server.manage("shell", "-c", STAFF_CREATE.format(*STAFF))
            port = server.port

            def back(label: str) -> None:
                since = time.monotonic()
                ok = wait_for(lambda: health(port)[1].get("cache") == "ok", 10, interval=0.1)
                report.check(
                    f"/healthz says the cache is ok again once Redis is {label}",
                    bool(ok),
                    f"after {time.monotonic() - since:.1f} s",
                )

            with LoadAcrossOutage(port) as load:
                time.sleep(2)
                keys = redis.keys()
                report.check(
                    "before: the portal keeps pages, versions and rate limits in Redis",
                    health(port) == (200, {"status": "ok", "database": "ok", "cache": "ok"})
                    and bool(keys),
                    f"{len(keys)} keys",
                )

                load.phase = "killed"
                redis.kill()
                time.sleep(0.5)
                pages = {path: fetch(port, "GET", path)[0] for path in PAGES}
                report.check(
                    "pages answer 200 while Redis is away", set(pages.values()) == {200}, pages
                )
                answer = health(port)
                report.check(
                    "/healthz answers 200 with the cache unreachable",
                    answer == (200, degraded),
                    answer,
                )
                time.sleep(3.5)

                load.phase = "restarted"
                redis.start()  # on the same port, empty
                back("started again")
                time.sleep(2.5)
                keys = redis.keys()
                report.check(
                    "the portal uses the restarted Redis: rate limits count there again",
                    any("ratelimit" in key for key in keys),
                    f"{len(keys)} keys, {sum('ratelimit' in key for key in keys)} rate limits",
                )

                load.phase = "frozen"  # SIGSTOP: connections accepted, never answered
                redis.freeze()
                time.sleep(0.5)
                answer = health(port)
                report.check(
                    "a frozen Redis: /healthz answers 200 with the cache unreachable",
                    answer == (200, degraded),
                    answer,
                )
                time.sleep(3)
                load.phase = "thawed"
                redis.thaw()
                back("answering again")
                time.sleep(2.5)

    answers = load.timed
    report.check(
        "every answer a success in every phase: no 500, no dropped connection",
        all(a.status in (200, 302, 303) for a in answers)
        and {a.phase for a in answers} == set(PHASES),
        statuses_by_phase(answers),
    )
    median = {
        phase: percentile(
            sorted(a.seconds for a in answers if a.phase == phase and "sign-in" not in a.kind),
            0.5,
        )
        for phase in PHASES
    }
    # Without the short timeouts a frozen Redis would hold requests until the client gave up
    # (no answer: the check above); without the pause between attempts each cache call
    # would wait for its timeout, and most answers would take longer by several times 0.2 s.
    report.check(
        "no stall: while Redis is away the median answer is no slower than before + 0.2 s",
        all(median[phase] <= median["before"] + 0.2 for phase in ("killed", "frozen")),
        "; ".join(f"{phase}: {latencies(answers, phase)}" for phase in PHASES),
    )
    acknowledged = {
        kind: [a.key for a in answers if a.kind == kind and a.status == code]
        for kind, code in (("request", 303), ("decision", 200), ("contact", 303))
    }
    with psycopg.connect(database_url, autocommit=True) as db:
        requests, orphan_mails = requests_stored(db, "redis-%")
        logged = decisions_logged(db, acknowledged["decision"])
        messages = {
            email
            for (email,) in db.execute(
                "SELECT email FROM requests_app_contactmessage WHERE email LIKE 'redis-%%'"
            ).fetchall()
        }
        sessions = db.execute("SELECT count(*) FROM django_session").fetchone()[0]
    complete = [
        address
        for address in acknowledged["request"]
        if requests.get(address) == (["submitted"], ["request_verification"])
    ]
    report.check(
        "every request answered 303 is stored with its event and its mail",
        len(complete) == len(acknowledged["request"]) and orphan_mails == 0,
        f"{len(acknowledged['request'])} acknowledged, {len(complete)} stored complete, "
        f"{orphan_mails} orphan mails",
    )
    report.check(
        "every decision answered 200 has its log row",
        len(logged) == len(acknowledged["decision"]),
        f"{len(acknowledged['decision'])} acknowledged, {len(logged)} logged",
    )
    report.check(
        "every contact message answered 303 is stored",
        set(acknowledged["contact"]) <= messages,
        f"{len(acknowledged['contact'])} acknowledged, {len(messages)} stored",
    )
    signed_in = [a for a in answers if a.kind == "sign-in" and a.status == 302]
    opened = [a for a in answers if a.kind == "admin page" and a.status == 200]
    away = [a for a in signed_in if a.phase in ("killed", "frozen")]
    report.check(
        "every sign-in answered 302 has its session and opens the admin, Redis away or not",
        len(signed_in) == sessions == len(opened) and bool(away),
        f"{len(signed_in)} sign-ins ({len(away)} while Redis was away), {sessions} sessions, "
        f"the admin opened {len(opened)} times",
    )
    log.flush()
    with open(log.name) as server_log:
        server_log.seek(log_start)
        lines = server_log.read().splitlines()
    outages = sum(UNREACHABLE_LOGGED in line for line in lines)
    ends = sum(BACK_LOGGED in line for line in lines)
    report.check(
        "each worker logged each outage once, and its end",
        2 <= outages <= 2 * workers and 2 <= ends <= 2 * workers,
        f"{outages} outage lines, {ends} end lines from {workers} workers and 2 outages",
    )
    return report.verdict()


# --- the child's roles (Django set up in the child only) ------------------------------------


def child(role: str) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from dataclasses import asdict

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from consent.preferences import preference_ensure, preference_identify
    from requests_app.models import DataSubjectRequest, ErasureItem, RequestEvent
    from requests_app.registry import DataSource, data_sources
    from requests_app.services import (
        contact_message_submit,
        request_erase,
        request_reject,
        request_submit,
        request_verify,
    )

    def records(address: str) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        for source in data_sources():
            for item in source.records(address):
                found.setdefault(item.source, []).append(asdict(item))
        return found

    def erasure_request() -> DataSubjectRequest:
        return DataSubjectRequest.objects.get(email=SUBJECT, kind="erasure")

    dpo = get_user_model().objects.get(username="dpo")
    if role == "seed":
        users = get_user_model().objects
        for address, name in ((SUBJECT, "Erin"), (BYSTANDER, "Otto")):
            contact_message_submit(name=name, email=address, message="About cookies", language="en")
            users.create_user(name.lower(), address, None, first_name=name)
            preference = preference_ensure(email=address)
            preference_identify(preference=preference, name=name, language="en")
            earlier = request_submit(kind="access", name=name, email=address, language="en")
            request_reject(request=request_verify(request=earlier), by=dpo, reason="Duplicate")
        request = request_submit(kind="erasure", name="Erin", email=SUBJECT, language="en")
        request_verify(request=request)
        result = {"request": request.pk}
    elif role == "snapshot":
        request = erasure_request()
        result = {
            "sources": records(SUBJECT),
            "bystander": records(BYSTANDER),
            "erasure items": ErasureItem.objects.filter(request=request).count(),
            "events": list(
                RequestEvent.objects.filter(request=request)
                .order_by("pk")
                .values_list("action", flat=True)
            ),
        }
    else:
        if role == "erase-and-die":
            before = sum(len(items) for items in records(SUBJECT).values())

            class DieMidErasure(DataSource):
                """Registered last: every app's source has erased by the time it runs."""

                name = "Kill switch"

                def records(self, email):
                    return []

                def erase(self, context):
                    left = sum(
                        1
                        for source in data_sources()
                        if source is not self
                        for _item in source.records(context.email)
                    )
                    # What the transaction has done so far, then the process dies in it.
                    print(json.dumps({"records before": before, "records left": left}), flush=True)
                    os.kill(os.getpid(), signal.SIGKILL)

            globals()["DieMidErasure"] = DieMidErasure
            settings.PERSONAL_DATA_SOURCES = [f"{__name__}.DieMidErasure"]
        outcome = request_erase(request=erasure_request(), by=dpo)
        result = asdict(outcome)
    print(json.dumps(result, sort_keys=True, default=str))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenarios", nargs="*", help="mail, database, erasure, redis (default: all)"
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)

    def named(suffix: str) -> str:
        if args.database_url.startswith("sqlite"):
            return args.database_url
        parts = urlparse(args.database_url)
        return parts._replace(path=f"{parts.path}_{suffix}").geturl()

    scenarios = {
        "mail": lambda log: scenario_mail(named("mail"), log),
        "database": lambda log: scenario_database(named("away"), log),
        "erasure": lambda log: scenario_erasure(named("erasure"), log),
        "redis": lambda log: scenario_redis(named("redis"), log),
    }
    chosen = args.scenarios or list(scenarios)
    if unknown := set(chosen) - set(scenarios):
        parser.error(f"no such scenario: {', '.join(sorted(unknown))}")
    log_path = Path(tempfile.mkdtemp(prefix="portal-faults-")) / "server.log"
    results = {}
    with log_path.open("w") as log:
        for name in chosen:
            try:
                results[name] = scenarios[name](log)
            except Exception as error:  # a scenario that breaks is a failed scenario
                print(f"FAIL {name}: {type(error).__name__}: {error}")
                results[name] = False
            log.flush()
    print(
        "faults: "
        + ", ".join(f"{name} {'PASS' if ok else 'FAIL'}" for name, ok in results.items())
        + f" (server and worker output: {log_path})"
    )
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
