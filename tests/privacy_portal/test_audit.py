"""The audit log of staff actions: reads included, no personal data, read-only."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.test import Client

from consent.preferences import preference_for
from privacy_portal.hashing import email_hash
from privacy_portal.models import StaffAction
from privacy_portal.roles import roles_sync
from tests.consent.test_preferences import registrant
from tests.helpers import ALICE, submit_and_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_request(demo_policy, deliver):
    return submit_and_verify(Client(), deliver, email=ALICE, kind="access")


def test_opening_a_request_is_logged_with_who_what_and_when(dpo, dpo_client, alices_request):
    response = dpo_client.get(f"/admin/requests_app/datasubjectrequest/{alices_request.pk}/change/")

    assert response.status_code == HTTPStatus.OK
    entry = StaffAction.objects.get()
    assert (entry.user, entry.username, entry.method) == (dpo, dpo.username, "GET")
    assert (entry.operation, entry.model) == ("change", "requests_app.datasubjectrequest")
    assert entry.object_ids == str(alices_request.pk)
    assert entry.status_code == HTTPStatus.OK


def test_the_subject_view_export_and_erasure_pages_are_logged(dpo_client, alices_request):
    base = f"/admin/requests_app/datasubjectrequest/{alices_request.pk}"
    dpo_client.get(f"{base}/subject/")
    dpo_client.get(f"{base}/erase/")

    assert list(StaffAction.objects.order_by("pk").values_list("operation", "object_ids")) == [
        ("subject", str(alices_request.pk)),
        ("erase", str(alices_request.pk)),
    ]


def test_a_search_is_logged_as_a_keyed_hash_never_as_the_term(dpo_client, alices_request):
    dpo_client.get("/admin/requests_app/datasubjectrequest/", {"q": "Alice@Example.org "})

    entry = StaffAction.objects.get()
    assert entry.operation == "changelist"
    assert entry.search_hash == email_hash(ALICE)
    stored = " ".join(str(value) for value in StaffAction.objects.values().get().values())
    assert "alice" not in stored.lower()


def test_the_dpo_finds_who_searched_for_an_address(dpo, dpo_client, alices_request):
    dpo_client.get("/admin/requests_app/datasubjectrequest/", {"q": ALICE})

    found = dpo_client.get("/admin/privacy_portal/staffaction/", {"q": ALICE.upper()})

    assert list(found.context["cl"].result_list) == [
        StaffAction.objects.get(operation="changelist", model="requests_app.datasubjectrequest")
    ]


def test_a_bulk_action_logs_the_selected_objects(dpo_client, alices_request):
    dpo_client.post(
        "/admin/requests_app/datasubjectrequest/",
        {"action": "assign_to_me", "_selected_action": [alices_request.pk]},
    )

    entry = StaffAction.objects.get(method="POST")
    assert entry.operation == "action:assign_to_me"
    assert entry.object_ids == str(alices_request.pk)


def test_a_marketing_toggle_is_logged(db, demo_policy, deliver):
    registrant(deliver, "ann@example.org", ticked=("email",))
    preference = preference_for("ann@example.org")
    user = User.objects.create_user("mark", "mark@example.com", "pw", is_staff=True)
    user.groups.add(roles_sync()["Marketing"])
    client = Client()
    client.force_login(user)
    url = f"/admin/consent/marketingpreference/{preference.pk}/change/"
    data = {"allow_email": "no", "allow_phone": "", "allow_research": "", "allow_affiliates": "",
            "allow_partners": "", "changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0",
            "changes-MIN_NUM_FORMS": "0", "changes-MAX_NUM_FORMS": "1000",
            "reason": "Asked by phone"}  # fmt: skip

    client.get(url)
    saved = client.post(url, data)

    assert saved.status_code == HTTPStatus.FOUND
    assert list(
        StaffAction.objects.filter(username="mark")
        .order_by("pk")
        .values_list("method", "operation", "model", "object_ids", "status_code")
    ) == [
        ("GET", "change", "consent.marketingpreference", str(preference.pk), 200),
        ("POST", "change", "consent.marketingpreference", str(preference.pk), 302),
    ]


def test_public_pages_and_anonymous_admin_visits_log_nothing(demo_policy):
    Client().get("/privacy/")
    Client().get("/admin/requests_app/datasubjectrequest/")

    assert not StaffAction.objects.exists()


def test_the_audit_log_is_read_only_for_everyone(dpo_client, alices_request):
    dpo_client.get("/admin/requests_app/datasubjectrequest/")
    entry = StaffAction.objects.get()
    url = f"/admin/privacy_portal/staffaction/{entry.pk}"

    assert dpo_client.get("/admin/privacy_portal/staffaction/").status_code == HTTPStatus.OK
    assert dpo_client.get(f"{url}/change/").status_code == HTTPStatus.OK
    assert dpo_client.post(f"{url}/change/", {"username": "x"}).status_code == (
        HTTPStatus.FORBIDDEN
    )
    assert dpo_client.post(f"{url}/delete/", {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    assert dpo_client.get("/admin/privacy_portal/staffaction/add/").status_code == (
        HTTPStatus.FORBIDDEN
    )
    assert StaffAction.objects.filter(pk=entry.pk, username=entry.username).exists()


def test_marketing_staff_cannot_read_the_audit_log(db):
    user = User.objects.create_user("mark", "mark@example.com", "pw", is_staff=True)
    user.groups.add(roles_sync()["Marketing"])
    client = Client()
    client.force_login(user)

    assert client.get("/admin/privacy_portal/staffaction/").status_code == HTTPStatus.FORBIDDEN


def test_bulk_exports_from_the_command_line_are_logged(db):
    from io import StringIO

    from django.core.management import call_command

    call_command("export_suppression_list", stdout=StringIO())
    call_command("export_audience", "email", stdout=StringIO())

    assert list(StaffAction.objects.order_by("pk").values_list("operation", "method")) == [
        ("command:export_suppression_list", "EXPORT"),
        ("command:export_audience email", "EXPORT"),
    ]
    assert StaffAction.objects.first().username.endswith("(command line)")
