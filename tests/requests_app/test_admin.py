from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from requests_app.models import ContactMessage, DataSubjectRequest, ProcessingPurpose
from requests_app.registry import data_sources
from tests.helpers import change_form_data, submit_and_verify

pytestmark = pytest.mark.django_db

ADMIN = "/admin/requests_app/datasubjectrequest/"


def _requests(count: int, dpo) -> None:
    purpose = ProcessingPurpose.objects.get(slug="data-subject-requests")
    today = timezone.localdate()
    start = DataSubjectRequest.objects.count()
    DataSubjectRequest.objects.bulk_create(
        DataSubjectRequest(
            reference=f"DSR-2026-{start + i:06d}",
            kind=DataSubjectRequest.Kind.ACCESS,
            status=DataSubjectRequest.Status.VERIFIED,
            name=f"Person {i}",
            email=f"person{start + i}@example.org",
            purpose=purpose,
            verified_at=timezone.now(),
            due_date=today + timezone.timedelta(days=(i % 40) - 10),
            original_due_date=today,
            assignee=dpo if i % 2 else None,
        )
        for i in range(count)
    )


def _changelist_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ADMIN, {"status__exact": "verified"})
    assert response.status_code == HTTPStatus.OK
    return len(queries)


def test_changelist_query_count_is_the_same_for_10_and_1000_requests(dpo_client, dpo):
    _requests(10, dpo)
    few = _changelist_queries(dpo_client)
    _requests(990, dpo)
    many = _changelist_queries(dpo_client)

    assert many == few
    assert DataSubjectRequest.objects.count() == 1000


def test_every_view_of_the_queue_takes_the_same_queries_for_10_and_1000_requests(dpo_client, dpo):
    views = [
        {},
        {"deadline": "overdue"},
        {"assignee__id__exact": dpo.pk},
        {"q": "person3@example.org"},
        {"q": "DSR-2026-000003"},
    ]

    def queries() -> list[int]:
        counts = []
        for params in views:
            with CaptureQueriesContext(connection) as captured:
                response = dpo_client.get(ADMIN, params)
            assert response.status_code == HTTPStatus.OK
            counts.append(len(captured))
        return counts

    _requests(10, dpo)
    few = queries()
    _requests(990, dpo)

    assert queries() == few


def test_search_matches_a_whole_reference_or_address_in_any_case(dpo_client, dpo):
    _requests(5, dpo)

    def found(term: str) -> list[str]:
        results = dpo_client.get(ADMIN, {"q": term}).context["cl"].result_list
        return [request.reference for request in results]

    assert found("PERSON3@Example.org") == ["DSR-2026-000003"]
    assert found("dsr-2026-000002") == ["DSR-2026-000002"]
    # Part of an address would need a scan of the whole queue: it finds nothing.
    assert found("person3") == []


def test_assignee_filter_offers_only_staff_with_requests_in_the_queue(dpo_client, dpo):
    idle = User.objects.create_user("idle-dpo", "idle@example.com", is_staff=True)
    _requests(4, dpo)

    html = dpo_client.get(ADMIN).content.decode()
    mine = dpo_client.get(ADMIN, {"assignee__id__exact": dpo.pk}).context["cl"].result_list

    assert f"assignee__id__exact={dpo.pk}" in html
    assert f"assignee__id__exact={idle.pk}" not in html
    assert len(mine) == 2
    assert all(request.assignee == dpo for request in mine)


def test_changelist_shows_days_left_and_highlights_overdue(dpo_client, dpo):
    _requests(12, dpo)

    html = dpo_client.get(ADMIN).content.decode()
    overdue = dpo_client.get(ADMIN, {"deadline": "overdue"})

    assert 'class="dsr-overdue"' in html
    assert all(r.due_date < timezone.localdate() for r in overdue.context["cl"].result_list)
    assert len(overdue.context["cl"].result_list) == 10


def test_changelist_search_by_reference_and_email(dpo_client, dpo):
    _requests(5, dpo)

    by_email = dpo_client.get(ADMIN, {"q": "person3@example.org"}).context["cl"].result_list
    by_reference = dpo_client.get(ADMIN, {"q": "DSR-2026-000002"}).context["cl"].result_list

    assert [r.email for r in by_email] == ["person3@example.org"]
    assert [r.reference for r in by_reference] == ["DSR-2026-000002"]


def test_unverified_requests_are_not_in_the_queue(client, dpo_client, demo_policy, deliver):
    client.post("/requests/new/", {"kind": "access", "name": "A", "email": "a@example.org"})

    assert dpo_client.get(ADMIN).context["cl"].result_count == 0


def test_staff_outside_the_dpo_group_get_403_on_every_request_url(demo_policy, deliver, dpo_client):
    request = submit_and_verify(Client(), deliver)
    clerk = User.objects.create_user("clerk", "clerk@example.com", "pw", is_staff=True)
    client = Client()
    client.force_login(clerk)
    urls = [
        ADMIN,
        f"{ADMIN}{request.pk}/change/",
        f"{ADMIN}{request.pk}/history/",
        f"{ADMIN}{request.pk}/subject/",
        f"{ADMIN}{request.pk}/erase/",
        f"{ADMIN}{request.pk}/extend/",
        f"{ADMIN}{request.pk}/complete/",
        f"{ADMIN}{request.pk}/reject/",
        "/admin/requests_app/contactmessage/",
        "/admin/requests_app/legalhold/",
        "/admin/requests_app/processingpurpose/",
        "/admin/privacy_portal/outgoingemail/",
    ]
    for url in urls:
        assert dpo_client.get(url).status_code == HTTPStatus.OK, url
        assert client.get(url).status_code == HTTPStatus.FORBIDDEN, url
        assert client.post(url, {}).status_code == HTTPStatus.FORBIDDEN, url
    assert DataSubjectRequest.objects.get(pk=request.pk).status == "verified"


def test_a_note_goes_into_the_audit_trail(dpo_client, dpo, demo_policy, deliver):
    request = submit_and_verify(Client(), deliver)
    page = dpo_client.get(f"{ADMIN}{request.pk}/change/")
    data = change_form_data(page, request, note="Called the requester.")

    response = dpo_client.post(f"{ADMIN}{request.pk}/change/", data)

    assert response.status_code == HTTPStatus.FOUND
    note = request.events.get(action="note")
    assert (note.actor, note.note, note.visible_to_requester) == (
        dpo,
        "Called the requester.",
        False,
    )


def test_status_transitions_are_audited_and_mailed(dpo_client, dpo, demo_policy, deliver):
    from django.core import mail

    request = submit_and_verify(Client(), deliver)

    with deliver():
        dpo_client.post(ADMIN, {"action": "start_work", "_selected_action": [request.pk]})
        dpo_client.post(ADMIN, {"action": "await_requester", "_selected_action": [request.pk]})

    assert mail.outbox[-2].subject.endswith(": In progress")
    assert "we need something from you" in mail.outbox[-1].body
    request.refresh_from_db()
    assert request.status == "awaiting_requester"
    trail = list(request.events.filter(action="status").values_list("from_status", "to_status"))
    assert trail == [("verified", "in_progress"), ("in_progress", "awaiting_requester")]


def test_contact_messages_are_listed_for_the_dpo(dpo_client, demo_policy, client):
    client.post("/contact/", {"name": "Carol", "email": "carol@example.org", "message": "Hi"})

    html = dpo_client.get("/admin/requests_app/contactmessage/").content.decode()

    assert "carol@example.org" in html
    message = ContactMessage.objects.get()
    assert (
        dpo_client.get(f"/admin/requests_app/contactmessage/{message.pk}/change/").status_code
        == 200
    )


def test_every_registered_source_names_a_declared_purpose(db):
    declared = set(ProcessingPurpose.objects.values_list("slug", flat=True))

    assert {source.purpose for source in data_sources()} <= declared
    assert {source.name for source in data_sources()} >= {
        "Data-subject requests",
        "Contact messages",
        "Cookie consent records",
        "Staff accounts",
    }
