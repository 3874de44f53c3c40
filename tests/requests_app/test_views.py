"""The requester's side through HTTP: neutral answers, verification, links, the contact form."""

import datetime
from contextlib import nullcontext
from http import HTTPStatus

import pytest
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from privacy_portal.models import OutgoingEmail
from requests_app import tokens
from requests_app.models import ContactMessage, DataSubjectRequest
from tests.consent.test_preferences import registrant
from tests.helpers import ALICE, link_in_mail, statements, submit, submit_and_verify

pytestmark = pytest.mark.django_db


def _followed(response, client: Client) -> tuple:
    page = client.get(response.headers["Location"]).content.decode()
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    return response.status_code, response.headers["Location"], main


def test_form_says_what_it_collects_and_why(client, demo_policy):
    html = client.get("/requests/new/").content.decode()

    for label in ["Access to my data", "Correction of my data", "Erasure of my data",
                  "Objection to marketing", "A portable copy of my data",
                  "Restriction of processing"]:  # fmt: skip
        assert label in html
    assert "What we do with what you send" in html
    assert "Legal obligation (Art. 6(1)(c))" in html
    assert 'name="website"' in html  # the honeypot
    assert 'tabindex="-1"' in html


def test_known_and_unknown_addresses_get_the_same_answer(client, demo_policy, deliver):
    submit_and_verify(Client(), deliver, email=ALICE)  # Alice is known now
    known = _followed(submit(Client(), deliver, email=ALICE), client)
    unknown = _followed(submit(Client(), deliver, email="nobody@example.net"), client)

    assert known == unknown
    assert known[0] == HTTPStatus.SEE_OTHER


def test_nothing_is_queued_before_the_link_is_followed(client, demo_policy, deliver):
    submit(client, deliver)

    request = DataSubjectRequest.objects.get()
    assert request.status == DataSubjectRequest.Status.UNVERIFIED
    assert not DataSubjectRequest.objects.verified().exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].alternatives[0][1] == "text/html"


def test_verification_page_needs_a_click_and_the_link_is_idempotent(client, demo_policy, deliver):
    submit(client, deliver)
    path = link_in_mail(mail.outbox[0], "/requests/verify/")

    client.get(path)  # a mail scanner following the link confirms nothing
    assert DataSubjectRequest.objects.get().status == DataSubjectRequest.Status.UNVERIFIED
    with deliver():
        first = client.post(path)
        again = client.post(path)

    # Both answers lead to the same request's status page (each link is signed anew, with
    # its own time stamp, so the two links may differ by a second).
    reference = DataSubjectRequest.objects.get().reference
    assert reference
    for answer in (first, again):
        assert answer.headers["Location"].startswith("/requests/status/")
        assert reference in client.get(answer.headers["Location"]).content.decode()
    assert len(mail.outbox) == 2  # one acknowledgement, not two


def test_a_correction_needs_details(client, demo_policy):
    response = client.post(
        "/requests/new/", {"kind": "rectification", "name": "A", "email": ALICE, "details": ""}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Tell us what to correct" in response.content.decode()
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "nonsense", "name": "A", "email": ALICE},
        {"kind": "access", "name": "", "email": ALICE},
        {"kind": "access", "name": "A", "email": "not-an-address"},
        {"kind": "access", "name": "A" * 500, "email": ALICE},
        {"kind": "access", "name": "A", "email": ALICE, "details": "x" * 6000},
    ],
)
def test_bad_input_is_a_400_with_messages_and_stores_nothing(client, demo_policy, data):
    response = client.post("/requests/new/", data)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Please check the fields marked below." in response.content.decode()
    assert not DataSubjectRequest.objects.exists()


def test_a_filled_honeypot_gets_the_normal_answer_and_stores_nothing(client, demo_policy):
    response = client.post(
        "/requests/new/",
        {"kind": "access", "name": "Bot", "email": ALICE, "website": "http://spam.example"},
    )

    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response.headers["Location"] == "/requests/new/sent/"
    assert not DataSubjectRequest.objects.exists()
    assert mail.outbox == []


def test_submissions_are_rate_limited_per_address(client, demo_policy, deliver, settings):
    settings.REQUEST_RATE_PER_EMAIL = 3
    for _ in range(3):
        assert submit(Client(REMOTE_ADDR="10.0.0.1"), deliver).status_code == HTTPStatus.SEE_OTHER

    response = submit(Client(REMOTE_ADDR="10.0.0.2"), deliver)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many attempts" in response.content.decode()
    assert DataSubjectRequest.objects.count() == 3


def test_submissions_are_rate_limited_per_network_address(client, demo_policy, deliver, settings):
    settings.REQUEST_RATE_PER_IP = 2
    for index in range(2):
        submit(client, deliver, email=f"person{index}@example.org")

    response = submit(client, deliver, email="third@example.org")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert DataSubjectRequest.objects.count() == 2


@pytest.mark.parametrize("kind", ["verify", "status", "download"])
@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        signing.dumps({"r": 1}, salt="someone-else"),
        signing.dumps({"r": "1"}, salt="requests.verify"),
        "x" * 2000,
    ],
)
def test_bad_links_get_a_clear_4xx_page(client, demo_policy, kind, token):
    response = client.get(f"/requests/{kind}/{token}/")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "This link is not valid" in response.content.decode()


def test_a_token_for_one_link_does_not_open_another(client, demo_policy, deliver):
    request = submit_and_verify(client, deliver)
    status_token = tokens.token_make(tokens.STATUS, request.pk)

    assert client.get(f"/requests/download/{status_token}/").status_code == HTTPStatus.BAD_REQUEST
    assert client.get(f"/requests/verify/{status_token}/").status_code == HTTPStatus.BAD_REQUEST


def test_an_expired_verification_link_says_so(client, demo_policy, deliver, settings):
    submit(client, deliver)
    path = link_in_mail(mail.outbox[0], "/requests/verify/")
    settings.REQUEST_VERIFY_DAYS = -1  # every link is older than that

    response = client.post(path)

    assert response.status_code == HTTPStatus.GONE
    assert "This link has expired" in response.content.decode()
    assert DataSubjectRequest.objects.get().status == DataSubjectRequest.Status.UNVERIFIED


def test_status_page_shows_reference_due_date_and_history(client, demo_policy, deliver):
    request = submit_and_verify(client, deliver)
    path = link_in_mail(mail.outbox[-1], "/requests/status/")

    html = client.get(path).content.decode()

    assert request.reference in html
    assert f'datetime="{request.due_date.isoformat()}"' in html
    # A moment as HTML's <time> takes it: seconds at most three decimals long, so none.
    received = request.verified_at.astimezone(datetime.UTC)
    assert f'datetime="{received:%Y-%m-%dT%H:%M:%SZ}"' in html
    assert "E-mail address confirmed; request received" in html


def test_contact_form_stores_the_message_with_purpose_and_policy(client, demo_policy):
    response = client.post(
        "/contact/", {"name": "Carol", "email": "Carol@Example.org", "message": "Hello DPO"}
    )

    assert response.status_code == HTTPStatus.SEE_OTHER
    message = ContactMessage.objects.get()
    assert message.email == "carol@example.org"
    assert message.purpose.slug == "enquiries"
    assert message.policy_version.number == 2
    assert "Thank you" in client.get(response.headers["Location"]).content.decode()


def test_contact_form_rejects_bad_input_and_catches_bots(client, demo_policy):
    bad = client.post("/contact/", {"name": "", "email": "x", "message": ""})
    bot = client.post(
        "/contact/", {"name": "B", "email": "b@example.org", "message": "m", "website": "x"}
    )

    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bot.status_code == HTTPStatus.SEE_OTHER
    assert not ContactMessage.objects.exists()


def test_unverified_requests_are_purged_after_the_verification_days(demo_policy, deliver, settings):
    from io import StringIO

    from django.core.management import call_command

    from privacy_portal.models import OutgoingEmail

    submit(Client(), deliver, email="old@example.org")
    submit_and_verify(Client(), deliver, email="kept@example.org")
    DataSubjectRequest.objects.filter(email="old@example.org").update(
        submitted_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )

    dry = StringIO()
    call_command("purge_expired", "--dry-run", stdout=dry)
    assert "Requests never confirmed: 1 past retention, would be deleted" in dry.getvalue()
    assert DataSubjectRequest.objects.count() == 2
    call_command("purge_expired", stdout=StringIO())

    assert list(DataSubjectRequest.objects.values_list("email", flat=True)) == ["kept@example.org"]
    assert not OutgoingEmail.objects.filter(to="old@example.org").exists()


@pytest.mark.parametrize("path", ["/requests/new/", "/contact/", "/register/", "/preferences/"])
def test_an_empty_submission_is_a_400_with_messages(client, demo_policy, path):
    response = client.post(path, {})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Please check the fields marked below." in response.content.decode()


def test_a_request_does_the_same_work_for_known_and_unknown_addresses(demo_policy, deliver):
    # Issue 13, finding 11: a registrant's verification mail got its unsubscribe link signed
    # in the request, a stranger's not; the mail server's copy is decided when it is sent.
    registrant(deliver, ALICE)
    work, headers = {}, {}
    for address in (ALICE, "nobody@example.net"):
        with CaptureQueriesContext(connection) as queries:
            response = submit(Client(), lambda: nullcontext(), email=address)
        assert response.status_code == HTTPStatus.SEE_OTHER
        work[address] = statements(queries)
        headers[address] = OutgoingEmail.objects.get(
            to=address, kind="request_verification"
        ).headers

    assert work[ALICE] == work["nobody@example.net"]
    assert headers[ALICE] == headers["nobody@example.net"]
