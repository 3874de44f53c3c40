"""Access export and erasure of one person among 10,000 and among 1,000,000 stored records.

Run: .venv/bin/python bench/subject_scale.py [--records 10000 1000000] [--runs 5]

It creates two throw-away PostgreSQL databases (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/scale_bench_subject, with _<records> appended), migrated,
and fills every registered personal-data source server-side (generate_series): cookie
consent records (linked to an address and anonymous), consent-id links, registrations
(adults, and children with their parental consents and events), marketing preferences and
their history, data-subject requests and their audit trails, contact messages, legal holds
and the e-mail outbox, in the proportions a running portal would have them, to about
10,000 and about 1,000,000 records. Then it adds the same few people to both, each with
records in every source and an open erasure request, and for each of them, alternating
between the two databases, times the access export and then the erasure through the
services the DPO's admin calls (request_export_build, request_erase): a fresh person each
run, since an erasure leaves nothing to erase again. One more person's export and erasure
are captured and each of their queries EXPLAINed on the large database: a sequential scan
of a large table fails the run.

The reference is the same work among 10,000 records, measured in the same run. Target
(issue 7): at most 2x the time among 1,000,000, with indexed look-ups (no scans). Prints the
figures, the ratio and PASS/FAIL; exits non-zero on FAIL. About 3 minutes on 2 cores.
"""

import argparse
import os
import re
import statistics
import sys
import time
from urllib.parse import urlparse

import psycopg
from harness import admin_url, drop_database, recreate_database
from queue_scale import configure_django, use_database

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/scale_bench_subject"  # + _<records>
MAX_TIME_RATIO = 2.0
# A table this small is read whole faster than through an index (staff accounts, the
# register of processing): PostgreSQL rightly scans it, at any size of the rest.
SMALL_TABLE = 10_000

# Stored records per person, from the proportions below: 5 cookie consent records (2 linked
# to the address, 3 of anonymous visitors), 1 consent-id link, 1 outbox e-mail, every 3rd a
# registration with its marketing preferences and 2 changes, every 10th a contact message,
# every 20th a request with 3 events and 3 more e-mails, every 40th a child's registration
# with a parental consent and 2 events, every 1000th a legal hold.
RECORDS_PER_PERSON = 5 + 1 + 1 + 4 / 3 + 1 / 10 + 7 / 20 + 4 / 40 + 1 / 1000

PERSONAL_TABLES = [
    "consent_consentrecord",
    "consent_consentsubject",
    "consent_registration",
    "consent_parentalconsent",
    "consent_parentalconsentevent",
    "consent_marketingpreference",
    "consent_preferencechange",
    "requests_app_datasubjectrequest",
    "requests_app_requestevent",
    "requests_app_contactmessage",
    "requests_app_legalhold",
    "privacy_portal_outgoingemail",
    "auth_user",
]

# Each statement fills one table for people %(first)s..%(last)s (person p has the address
# person<p>@example.org); later statements find earlier rows by what they hold.
FILL = [
    """
    INSERT INTO consent_consentrecord (receipt_id, consent_id, created_at, action, states,
        config_revision, policy_version, policy_language, banner_sha256, language, ip_prefix,
        user_agent, gpc)
    SELECT gen_random_uuid(),
        CASE WHEN k <= 2 THEN md5('consent-' || p)::uuid ELSE md5('anon-' || p || '-' || k)::uuid
        END,
        now() - make_interval(days => (p * 7 + k) %% 700, secs => p %% 86400),
        (ARRAY['accept_all', 'reject_all', 'custom'])[1 + (p + k) %% 3],
        jsonb_build_object('necessary', true, 'analytics', (p + k) %% 2 = 0,
                           'marketing', (p + k) %% 3 = 0),
        'a1b2c3d4e5f60718', 2, 'en', repeat('ab', 32), 'en', '192.0.2.0/24',
        'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0', false
    FROM generate_series(%(first)s::int, %(last)s::int) AS p, generate_series(1, 5) AS k
    """,
    """
    INSERT INTO consent_consentsubject (consent_id, email, source, linked_at)
    SELECT md5('consent-' || p)::uuid, 'person' || p || '@example.org',
        CASE WHEN p %% 3 = 0 THEN 'registration' ELSE 'preferences' END,
        now() - make_interval(days => (p * 7) %% 700)
    FROM generate_series(%(first)s::int, %(last)s::int) AS p
    """,
    """
    INSERT INTO consent_registration (status, is_child, name, email, parent_email, country,
        birth_year, interests, marketing_choices, language, purpose, policy_version,
        policy_language, created_at, confirmed_at, came_of_age_at, awaiting_since)
    SELECT 'active', false, 'Person ' || p, 'person' || p || '@example.org', '', 'DE', NULL,
        '["news"]', '{"email": true}', 'en', 'registration', 2, 'en',
        now() - make_interval(days => (p * 7) %% 700),
        now() - make_interval(days => (p * 7) %% 700), NULL,
        now() - make_interval(days => (p * 7) %% 700)
    FROM generate_series(%(first)s::int, %(last)s::int) AS p WHERE p %% 3 = 0
    """,
    """
    INSERT INTO consent_parentalconsent (reference, country, method, parent_email_hash,
        requested_at)
    SELECT md5('parental-' || p)::uuid, 'DE', 'email_plus',
        encode(sha256(('person' || p || '@example.org')::bytea), 'hex'),
        now() - make_interval(days => (p * 7) %% 700)
    FROM generate_series(%(first)s::int, %(last)s::int) AS p WHERE p %% 40 = 1
    """,
    """
    INSERT INTO consent_parentalconsentevent (consent_id, state, at)
    SELECT c.id, s.state, c.requested_at + s.after
    FROM consent_parentalconsent c
    CROSS JOIN (VALUES ('requested', interval '0'), ('consented', interval '1 day'))
        AS s(state, after)
    WHERE c.id > %(parental_after)s
    """,
    """
    INSERT INTO consent_registration (status, is_child, name, email, parent_email, country,
        birth_year, interests, marketing_choices, language, purpose, policy_version,
        policy_language, created_at, confirmed_at, came_of_age_at, awaiting_since,
        parental_consent_id)
    SELECT 'active', true, 'Child', '', 'person' || p || '@example.org', 'DE', 2014,
        '[]', '{}', 'en', 'registration', 2, 'en', c.requested_at, c.requested_at, NULL,
        c.requested_at, c.id
    FROM generate_series(%(first)s::int, %(last)s::int) AS p
    JOIN consent_parentalconsent c ON c.reference = md5('parental-' || p)::uuid
    WHERE p %% 40 = 1
    """,
    """
    INSERT INTO consent_marketingpreference (email, email_hash, name, language, allow_email,
        allow_phone, allow_research, allow_affiliates, allow_partners, created_at, updated_at,
        erased_at)
    SELECT 'person' || p || '@example.org',
        encode(sha256(('person' || p || '@example.org')::bytea), 'hex'), 'Person ' || p, 'en',
        true, NULL, p %% 2 = 0, false, NULL,
        now() - make_interval(days => (p * 7) %% 700), now(), NULL
    FROM generate_series(%(first)s::int, %(last)s::int) AS p WHERE p %% 3 = 0
    """,
    """
    INSERT INTO consent_preferencechange (preference_id, purpose, old, new, actor,
        staff_user_id, reason, at)
    SELECT m.id, s.purpose, NULL, s.new, s.actor, NULL, '', m.created_at + s.after
    FROM consent_marketingpreference m
    CROSS JOIN (VALUES ('email', true, 'registration', interval '0'),
                       ('research', true, 'person', interval '30 days'))
        AS s(purpose, new, actor, after)
    WHERE m.id > %(preference_after)s
    """,
    """
    INSERT INTO requests_app_datasubjectrequest (reference, kind, status, name, email,
        email_hash, details, language, purpose_id, submitted_at, verified_at, due_date,
        original_due_date, extension_reason, assignee_id, closed_at, outcome, export_file,
        anonymised_at)
    SELECT 'DSR-2025-' || lpad(p::text, 7, '0'), 'access', 'completed', 'Person ' || p,
        'person' || p || '@example.org', '', '', 'en', %(purpose)s,
        now() - make_interval(days => 40 + (p * 7) %% 700),
        now() - make_interval(days => 40 + (p * 7) %% 700),
        (now() - make_interval(days => 10 + (p * 7) %% 700))::date,
        (now() - make_interval(days => 10 + (p * 7) %% 700))::date, '', %(dpo)s,
        now() - make_interval(days => 20 + (p * 7) %% 700), 'Done.', '', NULL
    FROM generate_series(%(first)s::int, %(last)s::int) AS p WHERE p %% 20 = 0
    """,
    """
    INSERT INTO requests_app_requestevent (request_id, at, actor_id, action, from_status,
        to_status, note, visible_to_requester)
    SELECT r.id, r.submitted_at + s.after, NULL, s.action, s.from_status, s.to_status, '', true
    FROM requests_app_datasubjectrequest r
    CROSS JOIN (VALUES ('submitted', '', 'unverified', interval '0'),
                       ('verified', 'unverified', 'verified', interval '10 minutes'),
                       ('completed', 'verified', 'completed', interval '20 days'))
        AS s(action, from_status, to_status, after)
    WHERE r.id > %(request_after)s
    """,
    """
    INSERT INTO requests_app_contactmessage (name, email, message, language, purpose_id,
        received_at, answered)
    SELECT 'Person ' || p, 'person' || p || '@example.org',
        'How long do you keep my order history?', 'en', %(enquiries)s,
        now() - make_interval(days => (p * 7) %% 700), p %% 20 <> 0
    FROM generate_series(%(first)s::int, %(last)s::int) AS p WHERE p %% 10 = 0
    """,
    """
    INSERT INTO requests_app_legalhold (email, reason, record_types, created_at, released_at)
    SELECT 'person' || p || '@example.org', 'A claim about an order.', '',
        now() - interval '400 days', now() - interval '100 days'
    FROM generate_series(%(first)s::int, %(last)s::int) AS p WHERE p %% 1000 = 0
    """,
    """
    INSERT INTO privacy_portal_outgoingemail (kind, purpose, "to", subject, text, html,
        headers, related, scrub_after_send, status, attempts, last_error, created_at,
        next_attempt_at, sent_at)
    SELECT m.kind, m.purpose, 'person' || p || '@example.org', m.subject,
        'Hello Person ' || p || E',\n\n' || repeat('Some text of the message. ', 20), '',
        '{}', '', false, 'sent', 1, '', now() - make_interval(days => (p * 7) %% 700),
        now() - make_interval(days => (p * 7) %% 700),
        now() - make_interval(days => (p * 7) %% 700)
    FROM generate_series(%(first)s::int, %(last)s::int) AS p
    CROSS JOIN (VALUES (0, 'registration_confirm', 'registration', 'Confirm your address'),
                       (1, 'request_verification', 'data-subject-requests', 'Confirm it'),
                       (2, 'request_acknowledgement', 'data-subject-requests', 'Received'),
                       (3, 'request_completed', 'data-subject-requests', 'Done'))
        AS m(n, kind, purpose, subject)
    WHERE m.n = 0 OR p %% 20 = 0
    """,
]


def fill(database_url: str, *, people: int, purpose: int, enquiries: int, dpo: int) -> float:
    """Fill every personal-data source for `people` people; the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as db:
        with db.transaction():
            marks = {
                "parental_after": "consent_parentalconsent",
                "preference_after": "consent_marketingpreference",
                "request_after": "requests_app_datasubjectrequest",
            }
            params = {
                "first": 1,
                "last": people,
                "purpose": purpose,
                "enquiries": enquiries,
                "dpo": dpo,
                **{
                    mark: db.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
                    for mark, table in marks.items()
                },
            }
            for statement in FILL:
                db.execute(statement, params)
        # What autovacuum does in a live database: statistics and the visibility map.
        for table in PERSONAL_TABLES:
            db.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - started


def stored_records(database_url: str) -> int:
    with psycopg.connect(database_url) as db:
        return sum(
            db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in PERSONAL_TABLES
        )


def person_add(email: str, *, dpo):
    """One person with records in every source, and the open erasure request the DPO works
    (kept as `verified`, so both the export and the erasure may run on it)."""
    import datetime
    import uuid

    from django.utils import timezone

    from consent.models import (
        ConsentRecord,
        ConsentSubject,
        MarketingPreference,
        ParentalConsent,
        ParentalConsentEvent,
        PreferenceChange,
        Registration,
    )
    from privacy_portal.hashing import email_hash
    from privacy_portal.models import OutgoingEmail
    from requests_app.dates import due_date_for
    from requests_app.models import (
        ContactMessage,
        DataSubjectRequest,
        LegalHold,
        ProcessingPurpose,
        RequestEvent,
    )

    now = timezone.now()
    for n in range(2):
        consent_id = uuid.uuid4()
        ConsentSubject.objects.create(consent_id=consent_id, email=email, source="request")
        for k in range(3):
            ConsentRecord.objects.create(
                consent_id=consent_id,
                created_at=now - datetime.timedelta(days=30 * n + k),
                action=ConsentRecord.Action.CUSTOM,
                states={"necessary": True, "analytics": bool(k % 2), "marketing": False},
                config_revision="a1b2c3d4e5f60718",
                policy_version=2,
                policy_language="en",
                banner_sha256="ab" * 32,
                language="en",
                ip_prefix="198.51.100.0/24",
                user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
            )
    Registration.objects.create(
        status=Registration.Status.ACTIVE,
        name="Sam Subject",
        email=email,
        country="FR",
        marketing_choices={"email": True},
        confirmed_at=now,
    )
    preference = MarketingPreference.objects.create(
        email=email, email_hash=email_hash(email), name="Sam Subject", allow_email=True
    )
    for purpose in ["email", "research", "partners"]:
        PreferenceChange.objects.create(
            preference=preference, purpose=purpose, old=None, new=True, actor="person"
        )
    parental = ParentalConsent.objects.create(country="FR", parent_email_hash=email_hash(email))
    for state in ["requested", "consented"]:
        ParentalConsentEvent.objects.create(consent=parental, state=state)
    Registration.objects.create(
        status=Registration.Status.ACTIVE,
        is_child=True,
        name="Kim",
        parent_email=email,
        country="FR",
        birth_year=2015,
        parental_consent=parental,
    )
    for n in range(2):
        ContactMessage.objects.create(
            name="Sam Subject",
            email=email,
            message=f"Question {n} about my data.",
            purpose=ProcessingPurpose.objects.get(slug="enquiries"),
        )
    LegalHold.objects.create(
        email=email, reason="An old claim.", released_at=now - datetime.timedelta(days=10)
    )
    purpose = ProcessingPurpose.objects.get(slug="data-subject-requests")
    requests = []
    for kind, status in [("access", "completed"), ("erasure", "verified")]:
        request = DataSubjectRequest.objects.create(
            reference=f"DSR-2026-{uuid.uuid4().int % 10**7:07d}",
            kind=kind,
            status=status,
            name="Sam Subject",
            email=email,
            purpose=purpose,
            verified_at=now,
            due_date=due_date_for(timezone.localdate(now)),
            original_due_date=due_date_for(timezone.localdate(now)),
            assignee=dpo,
            closed_at=now if status == "completed" else None,
        )
        for action in ["submitted", "verified"]:
            RequestEvent.objects.create(request=request, action=action, visible_to_requester=True)
        requests.append(request)
    for n in range(4):
        OutgoingEmail.objects.create(
            kind="request_acknowledgement",
            purpose="data-subject-requests",
            to=email,
            subject=f"Message {n}",
            text="Hello Sam,\n\nWe received your request.",
            status=OutgoingEmail.Status.SENT,
            next_attempt_at=now,
            sent_at=now,
        )
    return requests[-1]


def export_and_erase(request, dpo) -> tuple[float, float, int, int]:
    """Time the access export, then the erasure, of the request's person (ms); and how
    many records the export and the erasure handled."""
    from django.conf import settings

    from requests_app.services import request_erase, request_export_build

    started = time.perf_counter()
    request = request_export_build(request=request, by=dpo)
    exported = time.perf_counter()
    result = request_erase(request=request, by=dpo)
    erased = time.perf_counter()
    handled = result.erased + result.anonymised + result.retained
    size = (settings.EXPORT_ROOT / request.export_file).stat().st_size
    return (exported - started) * 1000, (erased - exported) * 1000, size, handled


def captured(work) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        work()
    return [query["sql"] for query in queries.captured_queries]


def scans(database_url: str, statements: list[str]) -> dict[str, int]:
    """Sequential scans in the plans of `statements`, by table (EXPLAIN, not run)."""
    found: dict[str, int] = {}
    with psycopg.connect(database_url, autocommit=True) as db:
        for sql in statements:
            if not re.match(r"\s*(SELECT|UPDATE|DELETE)\b", sql, re.IGNORECASE):
                continue
            plan = "\n".join(row[0] for row in db.execute(f"EXPLAIN {sql}"))
            for table in re.findall(r"Seq Scan on (\w+)", plan):
                found[table] = found.get(table, 0) + 1
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs=2, default=[10_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    base_url = urlparse(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    sizes = args.records
    small, large = sizes
    names = {size: f"{base_url.path.lstrip('/')}_{size}" for size in sizes}
    urls = {size: base_url._replace(path=f"/{name}").geturl() for size, name in names.items()}

    recreate_database(urls[small])
    configure_django(urls[small])

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection

    from privacy_portal.roles import roles_sync
    from requests_app.models import ProcessingPurpose

    call_command("migrate", verbosity=0)
    dpo = User.objects.create_user("dpo", "dpo@example.com", is_staff=True)
    dpo.groups.add(roles_sync()["DPO"])
    ids = {
        "purpose": ProcessingPurpose.objects.get(slug="data-subject-requests").pk,
        "enquiries": ProcessingPurpose.objects.get(slug="enquiries").pk,
        "dpo": dpo.pk,
    }
    connection.close()
    with psycopg.connect(admin_url(urls[small]), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{names[large]}"')
        db.execute(f'CREATE DATABASE "{names[large]}" TEMPLATE "{names[small]}"')

    people = {}  # per size: the open requests of the people to export and erase
    for size in sizes:
        seconds = fill(urls[size], people=round(size / RECORDS_PER_PERSON), **ids)
        use_database(names[size])
        people[size] = [
            person_add(f"subject-{n}@example.org", dpo=dpo) for n in range(args.runs + 1)
        ]
        print(
            f"{stored_records(urls[size]):,} stored records "
            f"({round(size / RECORDS_PER_PERSON):,} people) filled in {seconds:.0f} s",
            flush=True,
        )

    # Interleaved, the order alternating, so that drift on a shared machine hits both sizes
    # alike; the first round warms both databases and this process and is not counted.
    times = {(size, work): [] for size in sizes for work in ("export", "erasure")}
    handled = {}
    for run in range(args.runs):
        for size in sizes if run % 2 == 0 else reversed(sizes):
            use_database(names[size])
            export_ms, erase_ms, zip_bytes, records = export_and_erase(people[size][run], dpo)
            handled[size] = (zip_bytes, records)
            if run:
                times[size, "export"].append(export_ms)
                times[size, "erasure"].append(erase_ms)

    # One more person per size, their queries captured: the count, and the plans.
    from requests_app.services import request_erase, request_export_build

    queries = {}
    for size in sizes:
        use_database(names[size])
        request = people[size][-1]
        export = captured(lambda r=request: request_export_build(request=r, by=dpo))
        erasure = captured(lambda r=request: request_erase(request=r, by=dpo))
        queries[size, "export"], queries[size, "erasure"] = export, erasure
    connection.close()
    with psycopg.connect(urls[large]) as db:
        rows = {
            table: db.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table]
            ).fetchone()[0]
            for table in PERSONAL_TABLES
        }

    print()
    print(
        f"One person's access export and erasure on PostgreSQL (the DPO's services), median "
        f"of {args.runs - 1} runs after a warm-up, a fresh person each run"
    )
    print(
        f"records handled per person: {handled[small][1]} (export zip {handled[small][0]:,} "
        f"bytes at {small:,}, {handled[large][0]:,} at {large:,})"
    )
    print(
        f"{'':10}{'queries':>14}{'ms':>18}{'ratio':>8}{'large-table scans':>20}"
        f"   (among {small:,} / among {large:,} records)"
    )
    failed = False
    for work in ("export", "erasure"):
        t_small = statistics.median(times[small, work])
        t_large = statistics.median(times[large, work])
        ratio = t_large / t_small
        found = scans(urls[large], queries[large, work])
        big = {table: n for table, n in found.items() if rows.get(table, 0) > SMALL_TABLE}
        ok = ratio <= MAX_TIME_RATIO and not big
        failed |= not ok
        q_small, q_large = len(queries[small, work]), len(queries[large, work])
        print(
            f"{work:10}{q_small:>7} /{q_large:>5}{t_small:>10.1f} /{t_large:>6.1f}{ratio:>8.2f}"
            f"{sum(big.values()):>20}   {'PASS' if ok else 'FAIL'}"
        )
        for table, count in sorted(found.items()):
            size_note = f"{rows.get(table, 0):,} rows" if table in rows else "small table"
            flag = "  <- large table" if table in big else ""
            print(f"{'':12}Seq Scan on {table} ({size_note}) x{count}{flag}")
    print(
        f"targets: at most {MAX_TIME_RATIO}x the time, no sequential scan of a table over "
        f"{SMALL_TABLE:,} rows -> {'FAIL' if failed else 'PASS'}"
    )
    if not args.keep:
        for url in urls.values():
            drop_database(url)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
