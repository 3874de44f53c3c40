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
import os
import sys

import psycopg
from harness import Server, csrf_pair, drive, recreate_database, verdict_print

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench"
TARGET = 0.9
REFERENCE = "bare insert view (reference)"
FORM = "consent POST, plain form (303)"
# What Django makes any view recording a decision pay: CSRF check, ORM row, signed cookie.
FLOOR = "Django floor: CSRF, ORM row, cookie"
JSON = "consent POST, module (JSON)"
# Every answer of a case must be this, or its figure means nothing (a refused request is fast).
EXPECTED = {REFERENCE: 204, FLOOR: 303, FORM: 303, JSON: 200}


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
            REFERENCE: lambda: (
                "POST",
                "/bench/insert/",
                "action=accept_all",
                {"Content-Type": "text/plain"},
            ),
            FLOOR: lambda: ("POST", "/bench/floor-decision/", form_body, common),
            FORM: lambda: ("POST", "/consent/", form_body, common),
            JSON: lambda: (
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
        r["statuses"].get(EXPECTED[name], 0)
        for name, results in runs.items()
        if name in (FORM, JSON)
        for r in results
    )
    reference = best[REFERENCE]["rps"]
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
    verdict_print(
        runs,
        target_case=FORM,
        reference=REFERENCE,
        floor=FLOOR,
        target=TARGET,
        what="consent POST / bare insert",
        floor_what="any Django view recording a decision",
    )
    lost = accepted - (after - before)
    print(f"decisions accepted: {accepted}, log rows written: {after - before}, lost: {lost}")
    unexpected = sum(
        count
        for name, results in runs.items()
        for r in results
        for status, count in r["statuses"].items()
        if status != EXPECTED[name]
    )
    print(f"answers other than each case's expected status: {unexpected}")
    return 1 if lost or unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
