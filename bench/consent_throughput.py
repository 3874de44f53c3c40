"""Consent POST throughput under gunicorn on PostgreSQL, against a bare insert view.

Run: .venv/bin/python bench/consent_throughput.py [--requests 3000] [--concurrency 8]

It creates a throw-away PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/portal_bench), starts the portal under gunicorn on
127.0.0.1, and drives it from this (second) process: every consent POST is a new visitor,
so every one writes a log row. The reference, measured in the same run on the same server,
is a bare Django view that inserts one row. It prints requests per second, p50/p99 latency,
the ratio, and checks the database: one log row per accepted decision, nothing lost.
"""

import argparse
import http.client
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(url: str) -> None:
    parts = urlparse(url)
    admin = parts._replace(path="/postgres").geturl()
    name = parts.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


class Server:
    def __init__(self, database_url: str, workers: int):
        self.port = free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_ENV_FILE": os.devnull,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_BEHIND_TLS_PROXY": "false",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "EMAIL_URL": "dummymail://",
        }
        self.workers = workers
        self.process = None

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def __enter__(self) -> "Server":
        self.manage("migrate", "--noinput", "-v0")
        self.manage("load_demo", "-v0", "--password-file", os.devnull)
        self.manage("collectstatic", "--noinput", "-v0")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bench.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--access-logfile",
                os.devnull,
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(10)


def csrf_pair(port: int) -> tuple[str, str]:
    """A CSRF cookie and form token, as a browser gets them with its first page."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/cookies/")
    response = conn.getresponse()
    html = response.read().decode()
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return cookie, token


def drive(port: int, make_request, total: int, concurrency: int) -> dict:
    """`total` requests over `concurrency` keep-alive connections; latencies and statuses."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    per_thread = total // concurrency

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port)
        local_lat, local_status = [], {}
        for _ in range(per_thread):
            method, path, body, headers = make_request()
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            local_lat.append(time.perf_counter() - started)
            local_status[response.status] = local_status.get(response.status, 0) + 1
        with lock:
            latencies.extend(local_lat)
            for status, count in local_status.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "statuses": statuses,
        "count": len(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    recreate_database(database_url)

    with Server(database_url, args.workers) as server:
        with psycopg.connect(database_url, autocommit=True) as db:
            db.execute("CREATE TABLE bench_bare_insert (id bigserial PRIMARY KEY, payload bytea)")
        cookie, token = csrf_pair(server.port)
        form_body = f"action=accept_all&scope=prompt&next=%2F&csrfmiddlewaretoken={token}"
        common = {
            "Cookie": f"csrftoken={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        cases = {
            "bare insert view (reference)": lambda: (
                "POST",
                "/bench/insert/",
                "action=accept_all",
                {"Content-Type": "text/plain"},
            ),
            "consent POST, plain form (303)": lambda: ("POST", "/consent/", form_body, common),
            "consent POST, module (JSON)": lambda: (
                "POST",
                "/consent/",
                form_body,
                {**common, "Accept": "application/json"},
            ),
        }
        for make in cases.values():  # warm every worker and cache
            drive(server.port, make, args.concurrency * 20, args.concurrency)
        with psycopg.connect(database_url, autocommit=True) as db:
            before = db.execute("SELECT count(*) FROM consent_consentrecord").fetchone()[0]

        runs: dict[str, list[dict]] = {name: [] for name in cases}
        for _ in range(args.rounds):  # interleaved, so drift hits every case alike
            for name, make in cases.items():
                runs[name].append(drive(server.port, make, args.requests, args.concurrency))
        best = {name: max(results, key=lambda r: r["rps"]) for name, results in runs.items()}

        with psycopg.connect(database_url, autocommit=True) as db:
            after = db.execute("SELECT count(*) FROM consent_consentrecord").fetchone()[0]

    accepted = sum(
        r["statuses"].get(200, 0) + r["statuses"].get(303, 0)
        for name, results in runs.items()
        if name.startswith("consent")
        for r in results
    )
    reference = best["bare insert view (reference)"]["rps"]
    print(
        f"gunicorn {args.workers} workers, PostgreSQL, {args.concurrency} connections, "
        f"{args.requests} requests per run, best of {args.rounds} rounds"
    )
    print(f"{'':34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}  statuses")
    for name, result in best.items():
        print(
            f"{name:34}{result['rps']:>9.0f}{result['p50']:>9.1f}{result['p99']:>9.1f}"
            f"{result['rps'] / reference:>8.2f}  {result['statuses']}"
        )
    lost = accepted - (after - before)
    print(f"decisions accepted: {accepted}, log rows written: {after - before}, lost: {lost}")
    errors = sum(
        count
        for results in runs.values()
        for r in results
        for status, count in r["statuses"].items()
        if status >= 500
    )
    return 1 if lost or errors else 0


if __name__ == "__main__":
    sys.exit(main())
