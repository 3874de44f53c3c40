"""The admin's middleware (signed-in user, second factor, audit log, messages) runs under the
admin's URL prefix only: public pages pay nothing for it, the admin keeps all of it."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import set_script_prefix

from privacy_portal.admin_middleware import _admin_prefix
from privacy_portal.models import StaffAction
from tests.helpers import public_paths

pytestmark = pytest.mark.django_db

DRAFTS = "/admin/privacy_portal/policyversion/"


def traces(response) -> dict[str, object]:
    """What the admin's middleware leaves on a request and its response."""
    request = response.wsgi_request
    return {
        "user": hasattr(request, "user"),
        "messages": hasattr(request, "_messages"),
        "messages cookie": "messages" in response.cookies,
    }


NONE = {"user": False, "messages": False, "messages cookie": False}


def test_public_pages_and_forms_run_none_of_the_admins_middleware(dpo_client, demo_policy):
    # Even for a signed-in staff member: the public pages never look at who they are.
    for client in (Client(), dpo_client):
        page = client.get("/privacy/")
        form = client.post("/contact/", {})
        decision = client.post("/consent/", {"action": "reject_all", "scope": "prompt"})

        assert (page.status_code, form.status_code) == (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
        assert decision.status_code == HTTPStatus.SEE_OTHER
        assert [traces(page), traces(form), traces(decision)] == [NONE] * 3
    assert not StaffAction.objects.exists()


def test_every_public_page_renders_without_the_admins_middleware(demo_policy):
    client = Client(raise_request_exception=True)

    answers = {name: client.get(path) for name, path in public_paths().items()}

    assert not [name for name, answer in answers.items() if answer.status_code >= 500]
    assert {name: traces(answer) for name, answer in answers.items()} == dict.fromkeys(
        answers, NONE
    )


def test_the_admin_still_signs_in_logs_reads_and_shows_messages(dpo_client, demo_policy):
    added = dpo_client.post(
        DRAFTS + "add/",
        {
            "number": "3",
            "language": "en",
            "effective_date": "2027-01-01",
            "summary_of_changes": "Clarified retention.",
            "body": "## Personal data\n\nWe keep request records for three years.",
        },
    )
    listed = dpo_client.get(added.headers["Location"])

    assert added.status_code == HTTPStatus.FOUND
    assert traces(added) == {"user": True, "messages": True, "messages cookie": True}
    assert "was added successfully" in listed.text
    assert StaffAction.objects.filter(model="privacy_portal.policyversion").exists()


def test_the_admin_is_recognised_under_a_script_name(dpo_client, demo_policy):
    """Served under /portal/ (SCRIPT_NAME), the admin's paths still start with /admin/."""
    _admin_prefix.cache_clear()
    set_script_prefix("/portal/")
    try:
        index = dpo_client.get("/admin/", SCRIPT_NAME="/portal")
        page = dpo_client.get("/privacy/", SCRIPT_NAME="/portal")
    finally:
        set_script_prefix("/")
        _admin_prefix.cache_clear()

    assert index.status_code == HTTPStatus.OK
    assert traces(index)["user"]
    assert traces(page) == NONE
