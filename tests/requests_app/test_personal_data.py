"""One person's data is found and erased through indexes, however many people are stored.

On PostgreSQL each query of an access export and of an erasure is EXPLAINed with
sequential scans discouraged: a table still scanned then has no index the query can use.
bench/subject_scale.py measures the same at 1,000,000 records.
"""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from requests_app.services import request_erase, request_export_build
from tests.helpers import submit_and_verify

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans of PostgreSQL"),
]

# Read whole by design: a few rows each (staff accounts are Django's own table).
SMALL_TABLES = {
    "auth_user",
    "requests_app_processingpurpose",
    "requests_app_processingpurpose_recipients",
    "requests_app_recipient",
}


def _scanned_tables(statements: list[str]) -> set[str]:
    found = set()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for sql in statements:
                if re.match(r"\s*(SELECT|UPDATE|DELETE)\b", sql, re.IGNORECASE):
                    cursor.execute(f"EXPLAIN {sql}")
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    found.update(re.findall(r"Seq Scan on (\w+)", plan))
        finally:
            cursor.execute("RESET enable_seqscan")
    return found


def test_access_export_and_erasure_find_the_person_through_indexes(
    demo_policy, deliver, dpo, settings, tmp_path
):
    settings.EXPORT_ROOT = tmp_path
    request = submit_and_verify(Client(), deliver, email="alice@example.org", kind="erasure")

    with CaptureQueriesContext(connection) as export:
        request = request_export_build(request=request, by=dpo)
    with CaptureQueriesContext(connection) as erasure:
        request_erase(request=request, by=dpo)
    statements = [query["sql"] for query in [*export.captured_queries, *erasure]]

    assert _scanned_tables(statements) - SMALL_TABLES == set()
