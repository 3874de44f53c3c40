"""The DPO's request queue (admin changelist) at 1,000 and at 100,000 requests on PostgreSQL.

Run: .venv/bin/python bench/queue_scale.py [--rows 1000 100000] [--renders 7]

It creates a throw-away PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/scale_bench_queue), migrates it, adds five DPO staff
members, and fills data-subject requests with their audit trails server-side
(generate_series): a realistic mix of kinds and statuses over three years, most of them
closed, a few per cent open and some overdue, each with the events the services write
(submitted, verified, assigned, status changes, closed). Then, in this process, the Django
test client logged in as a DPO renders the queue's changelist: the default view, a filtered
one (overdue) and two searches (a reference, an address). For each size it counts the
queries of one render and takes the median time of several renders (after a warm-up).

The reference is the same view at the first size, measured in the same run. Targets (issue
7): at 100,000 requests the same query count as at 1,000 and at most 1.5x the render time.
Prints a table with the ratios and PASS/FAIL; exits non-zero on FAIL. About 2 minutes.
"""

import argparse
import atexit
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import urlparse

import psycopg
from harness import admin_url, drop_database, recreate_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project's packages and its test settings

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/scale_bench_queue"  # + _<rows> per size
ADMIN = "/admin/requests_app/datasubjectrequest/"
MAX_QUERY_GROWTH = 0  # extra queries allowed at the larger size
MAX_TIME_RATIO = 1.5
DPO_COUNT = 5

# Rows are numbered g = 1, 2, ...; a multiplicative hash of g gives each row its place in
# the mix, so every size has the same proportions and the fill is repeatable.
FILL_REQUESTS = """
WITH numbered AS (
    SELECT g, ((g::bigint * 2654435761) %% 1000)::int AS r, ((g::bigint * 40503) %% 997)::int AS s
    FROM generate_series(%(first)s::int, %(last)s::int) AS g
), shaped AS (
    SELECT g, r, s,
        CASE
            WHEN r < 15 THEN 'unverified'
            WHEN r < 35 THEN 'verified'
            WHEN r < 60 THEN 'in_progress'
            WHEN r < 70 THEN 'awaiting_requester'
            WHEN r < 940 THEN 'completed'
            ELSE 'rejected'
        END AS status,
        (ARRAY['access', 'access', 'access', 'erasure', 'erasure', 'objection',
               'rectification', 'portability', 'restriction'])[1 + s %% 9] AS kind
    FROM numbered
), dated AS (
    SELECT *,
        CASE
            WHEN status = 'unverified' THEN now() - make_interval(hours => s %% 72)
            WHEN status IN ('verified', 'in_progress', 'awaiting_requester')
                THEN now() - make_interval(days => s %% 45, mins => g %% 1440)
            ELSE now() - make_interval(days => 45 + (s * 7 + g) %% 1050, mins => g %% 1440)
        END AS submitted
    FROM shaped
)
INSERT INTO requests_app_datasubjectrequest (
    reference, kind, status, name, email, email_hash, details, language, purpose_id,
    submitted_at, verified_at, due_date, original_due_date, extension_reason, assignee_id,
    closed_at, outcome, export_file, export_created_at, export_expires_at, anonymised_at
)
SELECT
    CASE WHEN status = 'unverified' THEN NULL
         ELSE 'DSR-' || extract(year FROM submitted)::int || '-' || lpad(g::text, 6, '0') END,
    kind, status,
    CASE WHEN kind = 'erasure' AND status IN ('completed', 'rejected') THEN ''
         ELSE 'Person ' || g END,
    CASE WHEN kind = 'erasure' AND status IN ('completed', 'rejected') THEN ''
         ELSE 'person' || g || '@example.org' END,
    CASE WHEN kind = 'erasure' AND status IN ('completed', 'rejected')
         THEN encode(sha256(('person' || g || '@example.org')::bytea), 'hex') ELSE '' END,
    CASE WHEN kind = 'rectification' THEN 'My surname is misspelt.' ELSE '' END,
    'en', %(purpose)s,
    submitted,
    CASE WHEN status = 'unverified' THEN NULL ELSE submitted + interval '20 minutes' END,
    CASE WHEN status = 'unverified' THEN NULL
         WHEN s %% 20 = 0 THEN (submitted + interval '3 months')::date
         ELSE (submitted + interval '1 month')::date END,
    CASE WHEN status = 'unverified' THEN NULL ELSE (submitted + interval '1 month')::date END,
    CASE WHEN status <> 'unverified' AND s %% 20 = 0
         THEN 'The request is complex: several systems hold your data.' ELSE '' END,
    CASE WHEN status IN ('unverified', 'verified') THEN NULL
         ELSE (%(dpos)s::bigint[])[1 + g %% %(dpo_count)s] END,
    CASE WHEN status IN ('completed', 'rejected')
         THEN submitted + make_interval(days => 1 + s %% 28) END,
    CASE WHEN status = 'rejected' THEN 'We could not confirm the request came from you.'
         WHEN status = 'completed' THEN 'Done.' ELSE '' END,
    '', NULL, NULL,
    CASE WHEN kind = 'erasure' AND status IN ('completed', 'rejected')
         THEN submitted + make_interval(days => 1 + s %% 28) END
FROM dated
ORDER BY g
"""

# The audit trail as the services write it (requests_app/services.py `_event` calls).
FILL_EVENTS = """
INSERT INTO requests_app_requestevent
    (request_id, at, actor_id, action, from_status, to_status, note, visible_to_requester)
SELECT id, submitted_at, NULL::int, 'submitted', '', 'unverified', '', true
FROM requests_app_datasubjectrequest WHERE id > %(after)s
UNION ALL
SELECT id, verified_at, NULL::int, 'verified', 'unverified', 'verified',
       'Due by ' || original_due_date || '.', true
FROM requests_app_datasubjectrequest WHERE id > %(after)s AND verified_at IS NOT NULL
UNION ALL
SELECT id, verified_at + interval '1 hour', assignee_id, 'assigned', '', '', '— → DPO', false
FROM requests_app_datasubjectrequest WHERE id > %(after)s AND assignee_id IS NOT NULL
UNION ALL
SELECT id, verified_at + interval '2 hours', assignee_id, 'status', 'verified', 'in_progress',
       '', true
FROM requests_app_datasubjectrequest
WHERE id > %(after)s AND assignee_id IS NOT NULL
UNION ALL
SELECT id, verified_at + interval '1 day', assignee_id, 'extended', '', '',
       original_due_date || ' → ' || due_date || ': ' || extension_reason, true
FROM requests_app_datasubjectrequest
WHERE id > %(after)s AND due_date <> original_due_date
UNION ALL
SELECT id, closed_at, assignee_id, status, 'in_progress', status,
       CASE WHEN status = 'rejected' THEN outcome ELSE '' END, true
FROM requests_app_datasubjectrequest WHERE id > %(after)s AND closed_at IS NOT NULL
"""


def configure_django(database_url: str) -> None:
    """The project's settings with debug off, in this process (the test settings only
    swap the static-files storage, so no collectstatic is needed)."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_COOKIES="false",
        DJANGO_BEHIND_TLS_PROXY="false",
        DJANGO_LOG_LEVEL="WARNING",
        ADMIN_REQUIRE_OTP="false",  # the client signs in with force_login, no TOTP device
        DATABASE_URL=database_url,
        DATABASE_CONN_MAX_AGE="600",
        EMAIL_URL="dummymail://",
    )
    import django
    from django.conf import settings

    # WhiteNoise looks for collected files; the test settings serve them from the finders.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    django.setup()
    # Set here rather than through the environment: EXPORT_ROOT read from the environment is
    # a django-environ Path, which the export code cannot use (reported).
    settings.EXPORT_ROOT = Path(tempfile.mkdtemp(prefix="scale-bench-exports-"))
    atexit.register(shutil.rmtree, settings.EXPORT_ROOT, ignore_errors=True)


def fill(database_url: str, *, total: int, purpose: int, dpos: list[int]) -> float:
    """Fill the queue with `total` requests and their events; the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as db:
        with db.transaction():
            db.execute(
                FILL_REQUESTS,
                {
                    "first": 1,
                    "last": total,
                    "purpose": purpose,
                    "dpos": dpos,
                    "dpo_count": len(dpos),
                },
            )
            db.execute(FILL_EVENTS, {"after": 0})
        # What autovacuum does in a live database: statistics and the visibility map.
        db.execute("VACUUM ANALYZE requests_app_datasubjectrequest")
        db.execute("VACUUM ANALYZE requests_app_requestevent")
    return time.perf_counter() - started


def use_database(name: str) -> None:
    """Point Django's connection at another of the benchmark's databases."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def render(client, params: dict) -> tuple[float, int]:
    """One render of the changelist: milliseconds, and the rows on the page."""
    started = time.perf_counter()
    response = client.get(ADMIN, params)
    html = response.content.decode()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{ADMIN} {params}: HTTP {response.status_code}")
    return elapsed, html.count('name="_selected_action"')


def queries_of(client, params: dict) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(ADMIN, params)
    # Read now: the next request's start clears the connection's query log.
    return [query["sql"] for query in queries.captured_queries]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs=2, default=[1_000, 100_000])
    parser.add_argument("--renders", type=int, default=9)
    parser.add_argument("--show-queries", action="store_true", help="print each view's SQL")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    base_url = urlparse(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    names = {size: f"{base_url.path.lstrip('/')}_{size}" for size in args.rows}
    urls = {size: base_url._replace(path=f"/{name}").geturl() for size, name in names.items()}
    small, large = args.rows

    # One migrated database with the DPO team, cloned for the other size.
    recreate_database(urls[small])
    configure_django(urls[small])

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from privacy_portal.roles import roles_sync
    from requests_app.models import DataSubjectRequest, ProcessingPurpose

    call_command("migrate", verbosity=0)
    group = roles_sync()["DPO"]
    dpos = []
    for n in range(DPO_COUNT):
        user = User.objects.create_user(f"dpo-{n}", f"dpo-{n}@example.com", is_staff=True)
        user.groups.add(group)
        dpos.append(user)
    purpose = ProcessingPurpose.objects.get(slug="data-subject-requests").pk
    connection.close()
    with psycopg.connect(admin_url(urls[small]), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{names[large]}"')
        db.execute(f'CREATE DATABASE "{names[large]}" TEMPLATE "{names[small]}"')

    clients = {}
    for size in args.rows:
        seconds = fill(urls[size], total=size, purpose=purpose, dpos=[u.pk for u in dpos])
        use_database(names[size])
        queue = DataSubjectRequest.objects.verified()
        print(
            f"{size:,} requests ({queue.count():,} in the queue, {queue.open().count():,} open, "
            f"{queue.overdue().count():,} overdue) filled in {seconds:.1f} s",
            flush=True,
        )
        clients[size] = Client()
        clients[size].force_login(User.objects.get(username="dpo-0"))

    # Look-ups that exist at both sizes (the first rows are the same): an early request.
    sample = queue.exclude(email="").order_by("pk").first()
    views = {
        "default (DPO's first page)": {},
        "filtered: access requests": {"kind__exact": "access"},
        "filtered: overdue": {"deadline": "overdue"},
        "search: reference": {"q": sample.reference},
        "search: e-mail address": {"q": sample.email},
    }
    queries: dict[tuple[int, str], list[str]] = {}
    times: dict[tuple[int, str], list[float]] = {key: [] for key in queries}
    rows: dict[tuple[int, str], int] = {}
    for size in args.rows:
        use_database(names[size])
        for name, params in views.items():
            render(clients[size], params)  # warm-up
            queries[size, name] = queries_of(clients[size], params)
            times[size, name] = []
            if args.show_queries:
                print(f"--- {name} at {size:,}")
                for statement in queries[size, name]:
                    print(f"  {statement[:300]}")
    # Interleaved rounds (the order alternating), so that drift on a shared machine hits
    # both sizes alike; each switch of database is followed by an untimed render.
    for round_ in range(args.renders):
        for size in args.rows if round_ % 2 == 0 else reversed(args.rows):
            use_database(names[size])
            render(clients[size], {})
            for name, params in views.items():
                elapsed, rows[size, name] = render(clients[size], params)
                times[size, name].append(elapsed)

    connection.close()
    if not args.keep:
        for url in urls.values():
            drop_database(url)

    print()
    print(
        f"Request queue changelist on PostgreSQL, Django test client as a DPO, "
        f"median of {args.renders} interleaved renders"
    )
    print(
        f"{'view':28}{'rows shown':>12}{'queries':>10}{'ms':>16}{'ratio':>7}"
        f"   (at {small:,} / at {large:,} requests)"
    )
    failed = False
    for name in views:
        q_small, q_large = len(queries[small, name]), len(queries[large, name])
        t_small = statistics.median(times[small, name])
        t_large = statistics.median(times[large, name])
        ratio = t_large / t_small
        same_rows = rows[small, name] == rows[large, name]
        ok = q_large - q_small <= MAX_QUERY_GROWTH and (ratio <= MAX_TIME_RATIO or not same_rows)
        failed |= not ok
        verdict = "PASS" if ok else "FAIL"
        if not same_rows:
            verdict += " (queries only: more rows on the page)"
        print(
            f"{name:28}{rows[small, name]:>5} /{rows[large, name]:>4}"
            f"{q_small:>5} /{q_large:>3}{t_small:>8.1f} /{t_large:>6.1f}{ratio:>7.2f}   {verdict}"
        )
    print(
        f"targets: the same query count, render time at most {MAX_TIME_RATIO}x -> "
        f"{'FAIL' if failed else 'PASS'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
