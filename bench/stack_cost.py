"""What the portal's own stack costs a POST: one INSERT view, the portal against a bare project.

Run: .venv/bin/python bench/stack_cost.py [--rounds 9] [--seconds 3] [--compare PATH]

The same csrf_exempt view inserting one row is served by gunicorn (4 workers) on one
throw-away PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/portal_bench_stack): in a bare Django project (bench/bare.py:
startproject's middleware) and in the portal (bench.settings: every middleware, the rate
limiter counting in a redis-server of the benchmark's own, the database health check).
`--compare PATH` adds the portal of another checkout (a `git worktree` of an older commit)
for before/after figures; `--cache-url locmemcache://` counts the rate limits in each
process instead (no Redis, as without CACHE_URL). wrk (https://github.com/wg/wrk,
`apt install wrk`) drives each in turn, keep-alive, rounds interleaved (each round starts
with the next server). Printed: requests/s, the workers' CPU time per request (less
sensitive than requests/s to whatever else the machine runs), and each round's ratio to the
bare project, with medians and ranges.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from harness import RedisServer, Server, free_port, recreate_database

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench_stack"
BARE = "bare Django project (reference)"
PORTAL = "the portal"
TABLE = "CREATE TABLE bench_bare_insert (id bigserial PRIMARY KEY, payload bytea)"
POST = """wrk.method = "POST"
wrk.body = "action=accept_all"
wrk.headers["Content-Type"] = "text/plain"
"""


def workers_cpu(server: Server) -> float:
    """CPU seconds the server's workers have used so far (Linux /proc)."""
    master = server.process.pid
    total = 0
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def wrk(server: Server, seconds: int, connections: int, script: Path) -> dict:
    url = f"http://127.0.0.1:{server.port}/bench/insert/"
    started = workers_cpu(server)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"answers other than 204:\n{out}")
    count = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "cpu_us": (workers_cpu(server) - started) / count * 1e6,
    }


def spread(values: list[float], fmt: str) -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2)
    parser.add_argument("--compare", type=Path, help="another checkout of the portal")
    parser.add_argument("--cache-url", help="default: a redis-server of the benchmark's own")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        parser.error("wrk is not installed (apt install wrk)")
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    recreate_database(database_url)
    script = Path(tempfile.mkstemp(prefix="portal-bench-post-", suffix=".lua")[1])
    script.write_text(POST)

    with RedisServer(free_port()) as redis:
        env = {"CACHE_URL": args.cache_url or redis.url}
        specs = {BARE: {"app": "django.core.wsgi:get_wsgi_application()", "prepare": False}}
        specs[BARE]["env"] = {**env, "DJANGO_SETTINGS_MODULE": "bench.bare"}
        if args.compare:
            specs[f"the portal at {args.compare}"] = {"root": args.compare.resolve(), "env": env}
        specs[PORTAL] = {"env": env}
        servers = {name: Server(database_url, args.workers, **spec) for name, spec in specs.items()}
        try:
            servers[PORTAL].start()  # migrates the database the others share
            for name, server in servers.items():
                if name != PORTAL:
                    server.start()
            with psycopg.connect(database_url, autocommit=True) as db:
                db.execute(TABLE)
            for server in servers.values():  # warm every worker
                wrk(server, 2, args.connections, script)
            names = list(servers)
            runs: dict[str, list[dict]] = {name: [] for name in names}
            for number in range(args.rounds):
                for name in names[number % len(names) :] + names[: number % len(names)]:
                    runs[name].append(wrk(servers[name], args.seconds, args.connections, script))
        finally:
            for server in servers.values():
                server.__exit__()
            script.unlink()

    print(
        f"POST /bench/insert/ (one INSERT), gunicorn {args.workers} workers, PostgreSQL, "
        f"cache {'Redis' if not args.cache_url else args.cache_url}, "
        f"wrk {args.connections} connections, {args.rounds} interleaved rounds of "
        f"{args.seconds} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"{'':42} {'req/s, median (range)':>22} {'CPU us/request':>20} {'ratio to bare':>22}")
    for name in names:
        rps = [run["rps"] for run in runs[name]]
        cpu = [run["cpu_us"] for run in runs[name]]
        ratios = [
            run["rps"] / bare["rps"] for run, bare in zip(runs[name], runs[BARE], strict=True)
        ]
        columns = f"{spread(rps, '.0f'):>22} {spread(cpu, '.0f'):>20} {spread(ratios, '.2f'):>22}"
        print(f"{name:42} {columns}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
