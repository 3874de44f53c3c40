"""Known against unknown addresses: does a public form answer one faster than the other?

Run: .venv/bin/python bench/preferences_timing.py [--requests 200] [--rounds 5]

It creates a throw-away PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/portal_bench_timing) with a marketing record for every
known address it will post, starts the portal under gunicorn on 127.0.0.1 as deployed
(database task backend, no worker running: a task is enqueued, never run in the request),
and posts the forms that take an address from this (second) process, one request at a
time on one keep-alive connection. Every address is posted once, known (seeded) or not, so
the per-address rate limit's counter is new for both and only the portal's knowledge
differs. Within a round each case alternates known, unknown, unknown, known... so drift on
a shared machine hits both alike. It prints, per form, the median and spread (p10-p90) of
each, the ratio of the medians in each round and overall, and PASS when that ratio stays
within the target: a timing that told known from unknown would answer the question the
page's wording hides.
"""

import argparse
import http.client
import os
import statistics
import sys
import time
import uuid
from urllib.parse import urlencode

from harness import Server, csrf_pair, percentile, recreate_database

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench_timing"
# A ratio of medians further from 1 than this is a difference an attacker can measure.
TARGET = 0.05
SEED = """
from consent.preferences import preference_ensure, preference_identify
for index in range({count}):
    preference = preference_ensure(email=f"known{{index}}@example.org")
    preference_identify(preference=preference, name=f"Known {{index}}", language="en")
"""
ADULT = "1990-01-01"
WARM_UP = 40  # requests per form before measuring, half known
FORMS = {
    "/preferences/ (link request)": ("/preferences/", {}),
    "/requests/new/ (access request)": ("/requests/new/", {"kind": "access", "name": "Sam"}),
    "/register/ (sign-up)": (
        "/register/",
        {"name": "Sam", "country": "FR", "date_of_birth": ADULT, "marketing_email": "on"},
    ),
}


def post(conn: http.client.HTTPConnection, path: str, body: str, headers: dict) -> float:
    """One POST; its time in milliseconds. Every answer must be the 303 of an accepted
    form, or the figure means nothing (a refused request is fast)."""
    started = time.perf_counter()
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 303:
        raise SystemExit(f"{path} answered {response.status}, not 303")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per case and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    seeded = len(FORMS) * (WARM_UP + args.requests * args.rounds)
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    recreate_database(database_url)

    with Server(database_url, workers=1) as server:
        server.manage("shell", "-c", SEED.format(count=seeded))
        cookie, token = csrf_pair(server.port)
        headers = {
            "Cookie": f"csrftoken={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        conn = http.client.HTTPConnection("127.0.0.1", server.port)
        known = (f"known{index}@example.org" for index in range(seeded))

        def address(kind: str) -> str:
            return next(known) if kind == "known" else f"new-{uuid.uuid4().hex}@example.org"

        def once(path: str, fields: dict, kind: str) -> float:
            body = urlencode({**fields, "email": address(kind), "csrfmiddlewaretoken": token})
            return post(conn, path, body, headers)

        for path, fields in FORMS.values():  # warm the worker: templates, connections
            for kind in ("known", "unknown") * (WARM_UP // 2):
                once(path, fields, kind)
        times = {form: {"known": [], "unknown": []} for form in FORMS}
        ratios: dict[str, list[float]] = {form: [] for form in FORMS}
        order = ("known", "unknown", "unknown", "known")
        for _ in range(args.rounds):
            for form, (path, fields) in FORMS.items():
                round_times = {"known": [], "unknown": []}
                for index in range(args.requests * 2):
                    kind = order[index % 4]
                    round_times[kind].append(once(path, fields, kind))
                for kind, values in round_times.items():
                    times[form][kind].extend(values)
                ratios[form].append(
                    statistics.median(round_times["known"])
                    / statistics.median(round_times["unknown"])
                )

    total = args.requests * args.rounds
    print(
        f"gunicorn 1 worker, PostgreSQL, database task backend (enqueue only), one connection, "
        f"{total} known and {total} unknown addresses per form, interleaved, {args.rounds} rounds"
    )
    print(f"{'':34}{'median ms':>10}{'p10-p90 ms':>14}")
    verdicts = []
    for form in FORMS:
        medians = {}
        for kind in ("known", "unknown"):
            values = sorted(times[form][kind])
            medians[kind] = statistics.median(values)
            spread = f"{percentile(values, 0.1):.2f}-{percentile(values, 0.9):.2f}"
            print(f"{form + ', ' + kind:34}{medians[kind]:>10.2f}{spread:>14}")
        ratio = medians["known"] / medians["unknown"]
        ok = abs(ratio - 1) <= TARGET
        verdicts.append(ok)
        rounds = " ".join(f"{r:.2f}" for r in ratios[form])
        print(
            f"  known / unknown: {ratio:.3f} (per round: {rounds}); "
            f"difference {medians['known'] - medians['unknown']:+.2f} ms "
            f"(target: within 1 +/- {TARGET}) -> {'PASS' if ok else 'MISSED'}"
        )
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
