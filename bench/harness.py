"""What the benchmarks and fault scenarios share: a throw-away PostgreSQL database, the
portal under gunicorn with production settings, a redis-server of one's own, a browser's
CSRF pair, a keep-alive driver.

Scripts in bench/ import it as `harness` (they run as `python bench/<name>.py`, so this
folder is first on sys.path); the tests import it as `bench.harness`.
"""

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "privacy_portal" / "settings.py"
# Every rate limit the settings read from the environment (per IP, per address, per minute):
# found by name, so a limit added later is raised too.
RATE_LIMIT_VARIABLE = re.compile(r'env\.int\(\s*"([A-Z0-9_]*RATE[A-Z0-9_]*)"')
UNLIMITED = "1000000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_url(url: str) -> str:
    """The same server's maintenance database, to create and drop the throw-away one."""
    return urlparse(url)._replace(path="/postgres").geturl()


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def recreate_database(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')


def unlimited_rates() -> dict[str, str]:
    """Environment raising every request rate limit the settings know of, so a load test
    from one address measures the portal, not its throttle."""
    names = RATE_LIMIT_VARIABLE.findall(SETTINGS_FILE.read_text())
    return dict.fromkeys(names, UNLIMITED)


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    """The portal as deployed (debug off, database tasks), on plain HTTP on 127.0.0.1, with
    its rate limits raised: every request of a benchmark comes from the same address."""
    return {
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
        **unlimited_rates(),
        **extra,
    }


class Server:
    """The portal under gunicorn on 127.0.0.1, on a migrated database with the demo loaded.

    `env` adds to (or overrides) the production environment; `log` receives gunicorn's
    output (default: this process's stderr). A subclass serves another project (its own
    interpreter, folder, WSGI module and set-up) through the same start and stop.
    """

    python = sys.executable
    cwd = ROOT
    wsgi = "bench.wsgi"
    ready_path = "/healthz"

    def __init__(
        self,
        database_url: str,
        workers: int,
        *,
        env: dict[str, str] | None = None,
        log: IO | None = None,
    ):
        self.port = free_port()
        # Static files of its own: collecting into the project's folder would race with
        # tests and runservers reading it.
        self.static_root = tempfile.mkdtemp(prefix="portal-bench-static-")
        self.env = production_env(database_url, DJANGO_STATIC_ROOT=self.static_root, **(env or {}))
        self.workers = workers
        self.log = log
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> None:
        subprocess.run(
            [self.python, "manage.py", *args],
            cwd=self.cwd,
            env=self.env,
            check=True,
            stdout=self.log or subprocess.DEVNULL,  # e.g. the demo login: not for a benchmark
            stderr=self.log,
        )

    def __enter__(self) -> "Server":
        try:
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def prepare(self) -> None:
        """What the database and static files need before the first request."""
        self.manage("migrate", "--noinput", "-v0")
        self.manage("load_demo", "-v0", "--password-file", os.devnull)
        self.manage("collectstatic", "--noinput", "-v0")

    def start(self) -> None:
        self.prepare()
        self.process = subprocess.Popen(
            [
                self.python,
                "-m",
                "gunicorn",
                self.wsgi,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--access-logfile",
                os.devnull,
                "--log-level",
                "warning",
            ],
            cwd=self.cwd,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", self.ready_path)
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.static_root, ignore_errors=True)


class RedisServer:
    """A redis-server of one's own on `port` (never the shared one), without persistence:
    stopped or killed for an outage, frozen for a Redis that accepts connections but does not
    answer, started again on the same port (empty) for its return."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while not self.answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.005)

    def __enter__(self) -> "RedisServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server cannot end
            self.process.terminate()
            self.process.wait(5)
            self.process = None

    def kill(self) -> None:
        """End it as a crash would (SIGKILL): its data is gone."""
        self.process.kill()
        self.process.wait(5)
        self.process = None

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def keys(self, pattern: str = "*") -> list[str]:
        import redis

        with redis.Redis("127.0.0.1", self.port, socket_timeout=1) as client:
            return sorted(key.decode() for key in client.scan_iter(pattern))


def csrf_pair(port: int, path: str = "/requests/new/") -> tuple[str, str]:
    """A CSRF cookie and form token, as a browser gets them with its first page with a form
    that has one (the request form, by default)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path)
    response = conn.getresponse()
    html = response.read().decode()
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return cookie, token


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the (sorted) values fall (nearest rank)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def drive(port: int, make_request: Callable, total: int, concurrency: int) -> dict:
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
