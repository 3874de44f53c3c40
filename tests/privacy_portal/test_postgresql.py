"""The persistent database connection's health check (privacy_portal/postgresql/base.py): a
connection the server ended (a restart, a fail-over, pg_terminate_backend) is replaced before
the next request uses it, and a healthy one costs no round trip to find out.

Django's test client runs no health check (it keeps the connection of the test), so a fresh
process serves the requests through Django's WSGI handler, as gunicorn does, on a throw-away
PostgreSQL database; the suite's own PostgreSQL run (DATABASE_URL=postgres://...) runs it.
"""

import json
import os
from http import HTTPStatus
from urllib.parse import urlparse

import pytest
from django.conf import settings

from bench.harness import admin_url, drop_database, recreate_database
from tests.conftest import run_manage

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="the suite runs on SQLite: a PostgreSQL connection's health check",
)

SERVE = """
import io, json, os, sys, tempfile, time
import psycopg
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

handler = WSGIHandler()

def get(path):
    answer = []
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
    }
    b"".join(handler(environ, lambda status, headers, exc_info=None: answer.append(status)))
    return int(answer[0][:3])

answers = {"first": get("/healthz")}
# What a request on the healthy, persistent connection sends (libpq's own protocol trace).
with tempfile.TemporaryFile("w+") as trace:
    connection.connection.pgconn.trace(trace.fileno())
    answers["healthy"] = get("/healthz")
    connection.connection.pgconn.untrace()
    trace.seek(0)
    sent = [line.split("\\t") for line in trace if "\\tF\\t" in line]  # F: from the client
    answers["queries_sent"] = [f[-1].strip() for f in sent if {"Query", "Parse"} & set(f)]
# The server ends the connection while the process is idle, as a restart does.
with psycopg.connect(os.environ["ADMIN_DATABASE_URL"], autocommit=True) as other:
    other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
time.sleep(0.3)
answers["after"] = get("/healthz")
print(json.dumps(answers))
"""


@pytest.fixture
def database_url():
    """A throw-away database beside the test database."""
    url = urlparse(os.environ["DATABASE_URL"])
    url = url._replace(path=f"/{settings.DATABASES['default']['NAME']}_health").geturl()
    recreate_database(url)
    yield url
    drop_database(url)


def test_a_connection_the_server_ended_is_replaced_before_the_next_request(database_url):
    env = {
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": database_url,
        "ADMIN_DATABASE_URL": admin_url(database_url),
        "DJANGO_LOG_LEVEL": "CRITICAL",
    }

    result = run_manage("shell", "-c", SERVE, env=env)

    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["first"] == answers["healthy"] == HTTPStatus.OK
    # /healthz's own query, and no health check's before it: a healthy connection costs no
    # round trip to check.
    assert answers["queries_sent"] == ['"SELECT 1"']
    # Not the 503 of a dead connection: the check saw the server had closed it.
    assert answers["after"] == HTTPStatus.OK
