"""First visits to /privacy/ under gunicorn on PostgreSQL, against a bare 10 KB page.

Run: .venv/bin/python bench/page_views.py [--requests 3000] [--rounds 5]

It creates a throw-away PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/portal_bench_pages), starts the portal under gunicorn on
127.0.0.1 and drives it from this (second) process. Every request is a new visitor (no
cookies): the policy in force with the cookie banner shown, a fresh CSRF token and CSP
nonce. The reference, measured in the same run on the same server and through the same
middleware, is a bare Django view returning 10 KB of HTML. Rounds alternate reference and
target, so drift on a shared machine hits both alike; the best round of each counts.
"""

import argparse
import http.client
import os
import sys

from harness import Server, drive, recreate_database, verdict_print

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench_pages"
TARGET = 0.85
REFERENCE = "bare 10 KB page (reference)"
TARGET_CASE = "/privacy/, first visit (banner shown)"
FLOOR = "bare 10 KB page with a CSRF token"
CASES = {
    REFERENCE: "/bench/page/",
    TARGET_CASE: "/privacy/",
    # For comparison, the floors: what one database query costs a page by itself, and what
    # Django's CSRF token for a form (the banner's) costs a first visit by itself.
    "bare 10 KB page after one query": "/bench/page-query/",
    FLOOR: "/bench/page-token/",
}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    recreate_database(database_url)

    with Server(database_url, args.workers) as server:
        check = first_visit_check(server.port)
        makers = {name: (lambda path=path: ("GET", path, None, {})) for name, path in CASES.items()}
        for make in makers.values():  # warm every worker and cache
            drive(server.port, make, args.concurrency * 20, args.concurrency)
        runs: dict[str, list[dict]] = {name: [] for name in CASES}
        for _ in range(args.rounds):  # interleaved, so drift hits every case alike
            for name, make in makers.items():
                runs[name].append(drive(server.port, make, args.requests, args.concurrency))
    best = {name: max(results, key=lambda r: r["rps"]) for name, results in runs.items()}

    reference = best[REFERENCE]["rps"]
    print(
        f"gunicorn {args.workers} workers, PostgreSQL, {args.concurrency} connections, "
        f"{args.requests} requests per run, best of {args.rounds} rounds"
    )
    print(f"{'':40}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}  statuses")
    for name, result in best.items():
        print(
            f"{name:40}{result['rps']:>9.0f}{result['p50']:>9.1f}{result['p99']:>9.1f}"
            f"{result['rps'] / reference:>8.2f}  {result['statuses']}"
        )
    verdict_print(
        runs,
        target_case=TARGET_CASE,
        reference=REFERENCE,
        floor=FLOOR,
        target=TARGET,
        what="first visit / bare page",
        floor_what="any Django page with a form (a CSRF token)",
    )
    print(f"first-visit page check: {check}")
    errors = sum(
        count
        for results in runs.values()
        for r in results
        for status, count in r["statuses"].items()
        if status != 200
    )
    return 1 if errors or not check.startswith("ok") else 0


if __name__ == "__main__":
    sys.exit(main())
