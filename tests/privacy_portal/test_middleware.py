"""The friendly 503 while the database is away: pages, forms, JSON clients, the health check.

The outage is real: a fresh process whose DATABASE_URL points at a database that cannot be
opened (SQLite in a missing folder, PostgreSQL on a closed port)."""

import json
from http import HTTPStatus

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from privacy_portal.middleware import server_error
from tests.conftest import run_manage
from tests.helpers import visible_text

OUTAGE_SCRIPT = """
import json
from django.test import Client
client = Client()
answers = {}
def keep(name, response):
    answers[name] = {
        "status": response.status_code,
        "retry_after": response.headers.get("Retry-After"),
        "cache_control": response.headers.get("Cache-Control"),
        "content_type": response.headers.get("Content-Type"),
        "body": response.content.decode(),
    }
for path in ["/", "/privacy/", "/privacy/history/", "/cookies/", "/requests/new/"]:
    keep(path, client.get(path))
keep("request form", client.post(
    "/requests/new/", {"kind": "access", "name": "A", "email": "a@example.org"}
))
keep("decision (module)", client.post(
    "/consent/", {"action": "accept_all", "scope": "prompt"}, headers={"Accept": "application/json"}
))
keep("decision (form)", client.post("/consent/", {"action": "accept_all", "scope": "prompt"}))
keep("health", client.get("/healthz"))
print(json.dumps(answers))
"""


@pytest.fixture(
    scope="module",
    params=[
        "sqlite:////nonexistent-directory/portal.sqlite3",
        "postgres://nobody@127.0.0.1:9/none",
    ],
)
def outage(request) -> dict:
    env = {
        "DJANGO_DEBUG": "true",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": request.param,
        "DJANGO_LOG_LEVEL": "CRITICAL",
    }
    result = run_manage("shell", "-c", OUTAGE_SCRIPT, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


PAGES = ["/", "/privacy/", "/privacy/history/", "/cookies/", "/requests/new/"]


@pytest.mark.parametrize("name", [*PAGES, "request form", "decision (form)"])
def test_pages_and_forms_answer_a_friendly_503_with_retry_after(outage, name):
    answer = outage[name]

    assert answer["status"] == HTTPStatus.SERVICE_UNAVAILABLE
    assert answer["retry_after"] == "30"
    assert answer["cache_control"] == "no-store"
    assert answer["content_type"].startswith("text/html")
    assert "Briefly unavailable" in answer["body"]
    assert "may not have been saved" in answer["body"]
    assert "dpo@example.com" in answer["body"]
    assert "Traceback" not in answer["body"]


def test_json_clients_get_the_503_in_json(outage):
    answer = outage["decision (module)"]

    assert answer["status"] == HTTPStatus.SERVICE_UNAVAILABLE
    assert answer["retry_after"] == "30"
    assert answer["content_type"] == "application/json"
    body = json.loads(answer["body"])
    assert body["retryAfter"] == 30
    assert "try again" in body["error"]


def test_healthz_keeps_its_own_503(outage):
    answer = outage["health"]

    assert answer["status"] == HTTPStatus.SERVICE_UNAVAILABLE
    assert json.loads(answer["body"]) == {
        "status": "error",
        "database": "unreachable",
        "cache": "ok",
    }


def test_a_database_error_outside_a_view_is_a_503_too():
    """handler500 sees what a middleware raised: the database being away is still a 503."""
    request = RequestFactory().get("/")
    try:
        raise OperationalError("could not connect to server")
    except OperationalError:
        response = server_error(request)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.headers["Retry-After"] == "30"
    assert "Briefly unavailable" in response.content.decode()


def test_any_other_error_is_still_a_500():
    request = RequestFactory().get("/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert "Briefly unavailable" not in visible_text(response.content.decode())


def test_the_500_page_does_not_claim_that_what_was_sent_is_safe():
    """A bug can strike before or after a form's data was committed: the page cannot know."""
    request = RequestFactory().post("/requests/new/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)

    page = visible_text(response.content.decode())
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert "lost" not in page
    assert "Nothing" not in page
    assert "we cannot tell whether it was saved" in page
