"""After every ending nothing readable of the person remains anywhere.

Each test walks one ending through the real entry points (the public pages, the mailed
links, the admin, the commands), delivers every queued mail, and then reads every table
the database has (found by introspection: a new model, the portal's or Django's, is read
without editing this file), every session decoded, and every file under EXPORT_ROOT. The
person's address and name must not be found in readable form; only the documented keyed
hashes remain.
"""

import datetime
import io
import json
import zipfile
from dataclasses import dataclass
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from consent.models import MarketingPreference, ParentalConsent, Registration
from privacy_portal.hashing import email_hash
from privacy_portal.outbox import emails_send_due
from requests_app.models import DataSubjectRequest
from tests.helpers import link_in_mail, submit, submit_and_verify

pytestmark = pytest.mark.django_db

NAME = "Zephyrine Quillfeather"
ADDRESS = "zephyrine.quill@example.org"
CHILD = "Octavian"
PARENT = "guardian.quill@example.org"
TODAY = timezone.localdate()
REQUESTS = "/admin/requests_app/datasubjectrequest/"


@dataclass(frozen=True)
class Found:
    place: str
    value: str

    def __str__(self) -> str:
        return f"{self.place}: {self.value[:160]!r}"


def _text(value) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _readable_everywhere(export_root) -> list[tuple[str, str]]:
    """(place, text) for every value in every table, every decoded session and every
    exported file."""
    places: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    places.append((f"{table}.{column}", _text(value)))
    for session in Session.objects.all():
        decoded = json.dumps(session.get_decoded(), ensure_ascii=False, default=str)
        places.append((f"django_session {session.session_key} (decoded)", decoded))
    if export_root.exists():
        for path in export_root.rglob("*"):
            if path.is_file():
                places.append((f"file {path}", path.read_bytes().decode("utf-8", "replace")))
                if zipfile.is_zipfile(path):
                    with zipfile.ZipFile(path) as archive:
                        for member in archive.namelist():
                            text = archive.read(member).decode("utf-8", "replace")
                            places.append((f"file {path}:{member}", text))
    return places


def leftovers(settings, *identifiers: str) -> list[Found]:
    """Where any of `identifiers` (an address, a name) can still be read."""
    emails_send_due(now=timezone.now() + datetime.timedelta(days=1))  # deliver everything
    wanted = [identifier.casefold() for identifier in identifiers]
    return [
        Found(place, text)
        for place, text in _readable_everywhere(settings.EXPORT_ROOT)
        if any(identifier in text.casefold() for identifier in wanted)
    ]


@pytest.fixture(autouse=True)
def _exports(settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path / "exports"


def test_the_check_finds_what_is_there(demo_policy, deliver, settings):
    """The reader is not blind: a live request is found in its table, its mail and its
    event trail."""
    submit(Client(), deliver, email=ADDRESS, name=NAME)

    places = {found.place.split(".")[0] for found in leftovers(settings, ADDRESS, NAME)}

    assert {"requests_app_datasubjectrequest", "privacy_portal_outgoingemail"} <= places


# --- Erasure --------------------------------------------------------------------------------


def test_a_full_erasure_leaves_nothing_readable(
    demo_policy, deliver, settings, dpo_client, admin_client
):
    person = Client()
    person.post("/consent/", {"action": "accept_all", "scope": "prompt", "next": "/"})
    register_adult(person, deliver)
    with deliver():
        person.post(link_in_mail(mail.outbox[-1], "/register/confirm/"))
    person.post(
        "/contact/", {"name": NAME, "email": ADDRESS, "message": f"{NAME} asks about cookies."}
    )
    staff = User.objects.create_user(
        "zephyrine", ADDRESS, "pw", first_name="Zephyrine", last_name="Quillfeather"
    )
    # Staff touch the person's records in the admin: Django logs each change.
    preference = MarketingPreference.objects.get(email=ADDRESS)
    changed = admin_client.post(
        f"/admin/consent/marketingpreference/{preference.pk}/change/",
        {
            "email_choice": "no",
            "phone_choice": "",
            "research_choice": "",
            "affiliates_choice": "",
            "partners_choice": "",
            "reason": f"{NAME} phoned to opt out.",
            **preference_inline_management(preference),
        },
    )
    assert changed.status_code == 302, changed.content.decode()[:2000]
    admin_client.post(f"/admin/auth/user/{staff.pk}/change/", user_change_data(staff))
    message = person_contact_message()
    admin_client.post(
        f"/admin/requests_app/contactmessage/{message.pk}/change/",
        {"answered": "on"},
    )
    request = submit_and_verify(person, deliver, email=ADDRESS, name=NAME, kind="erasure")
    with deliver():
        dpo_client.post(REQUESTS, {"action": "build_export", "_selected_action": [request.pk]})
    dpo_client.post(f"{REQUESTS}{request.pk}/erase/")
    with deliver():
        dpo_client.post(f"{REQUESTS}{request.pk}/complete/", {"outcome": f"Erased {NAME}."})

    found = leftovers(settings, ADDRESS, "Zephyrine", "Quillfeather")

    assert not found, "\n".join(map(str, found))
    assert MarketingPreference.objects.filter(email_hash=email_hash(ADDRESS)).exists()
    assert DataSubjectRequest.objects.filter(email_hash=email_hash(ADDRESS)).exists()


def preference_inline_management(preference) -> dict:
    prefix = "changes"
    count = preference.changes.count()
    return {
        f"{prefix}-TOTAL_FORMS": str(count),
        f"{prefix}-INITIAL_FORMS": str(count),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    } | {
        f"{prefix}-{index}-id": str(change.pk)
        for index, change in enumerate(preference.changes.order_by("-at", "-id"))
    }


def user_change_data(user) -> dict:
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
    }


def person_contact_message():
    from requests_app.models import ContactMessage

    return ContactMessage.objects.get(email=ADDRESS)


# --- The child's flow: decline, expiry, revocation, coming of age ---------------------------


def register_adult(client: Client, deliver, *, email: str = ADDRESS):
    with deliver():
        return client.post(
            "/register/",
            {
                "name": NAME,
                "email": email,
                "country": "DE",
                "date_of_birth": TODAY.replace(year=TODAY.year - 30, day=1).isoformat(),
                "interests": ["products"],
                "marketing_email": "on",
            },
        )


def register_child(client: Client, deliver) -> Registration:
    with deliver():
        client.post(
            "/register/",
            {
                "name": f"{CHILD} Quillfeather",
                "email": "octavian@example.org",
                "country": "DE",
                "date_of_birth": TODAY.replace(year=TODAY.year - 12, day=1).isoformat(),
                "interests": ["products"],
            },
        )
        client.post("/register/parent/", {"parent_email": PARENT})
    return Registration.objects.get(is_child=True)


def parent_link(path: str) -> str:
    return link_in_mail(mail.outbox[-1], path)


def test_a_parent_declining_leaves_nothing_readable(demo_policy, deliver, settings):
    child = Client()
    register_child(child, deliver)

    with deliver():
        Client().post(parent_link("/parental-consent/"), {"decision": "decline"})

    assert not Registration.objects.exists()
    found = leftovers(settings, PARENT, CHILD, "Quillfeather")
    assert not found, "\n".join(map(str, found))
    assert ParentalConsent.objects.filter(parent_email_hash=email_hash(PARENT)).exists()


def test_silence_expiring_leaves_nothing_readable(demo_policy, deliver, settings):
    register_child(Client(), deliver)
    Registration.objects.update(
        awaiting_since=timezone.now() - datetime.timedelta(days=settings.PARENTAL_CONSENT_DAYS + 1)
    )

    purge()

    assert not Registration.objects.exists()
    found = leftovers(settings, PARENT, CHILD, "Quillfeather")
    assert not found, "\n".join(map(str, found))


def test_a_parent_revoking_leaves_nothing_readable(demo_policy, deliver, settings):
    register_child(Client(), deliver)
    parent = Client()
    with deliver():
        parent.post(parent_link("/parental-consent/"), {"decision": "consent", "is_guardian": "on"})

    parent.post(parent_link("/parental-consent/manage/"), {"revoke": "yes"})

    assert not Registration.objects.exists()
    found = leftovers(settings, PARENT, CHILD, "Quillfeather")
    assert not found, "\n".join(map(str, found))


def _came_of_age(deliver) -> Registration:
    registration = register_child(Client(), deliver)
    with deliver():
        Client().post(
            parent_link("/parental-consent/"), {"decision": "consent", "is_guardian": "on"}
        )
    Registration.objects.filter(pk=registration.pk).update(birth_year=TODAY.year - 18)
    with deliver():
        call_command("process_coming_of_age", stdout=StringIO())
    return registration


def test_coming_of_age_leaves_nothing_readable_of_the_parent(demo_policy, deliver, settings):
    registration = _came_of_age(deliver)
    young = Client()
    with deliver():
        young.post(parent_link("/register/own-consent/"), {"email": "octavian@example.org"})
    with deliver():
        young.post(link_in_mail(mail.outbox[-1], "/register/confirm/"))

    registration.refresh_from_db()
    assert registration.status == "active"
    found = leftovers(settings, PARENT)
    assert not found, "\n".join(map(str, found))


def test_coming_of_age_without_an_answer_leaves_nothing_readable(demo_policy, deliver, settings):
    registration = _came_of_age(deliver)
    Registration.objects.filter(pk=registration.pk).update(
        awaiting_since=timezone.now() - datetime.timedelta(days=settings.OWN_CONSENT_DAYS + 1)
    )

    purge()

    assert not Registration.objects.exists()
    found = leftovers(settings, PARENT, CHILD, "Quillfeather")
    assert not found, "\n".join(map(str, found))


# --- Purges of what was never confirmed ------------------------------------------------------


def test_an_unconfirmed_sign_up_purged_leaves_nothing_readable(demo_policy, deliver, settings):
    register_adult(Client(), deliver)
    Registration.objects.update(
        awaiting_since=timezone.now()
        - datetime.timedelta(days=settings.REGISTRATION_CONFIRM_DAYS + 1)
    )

    purge()

    assert not Registration.objects.exists()
    found = leftovers(settings, ADDRESS, "Zephyrine", "Quillfeather")
    assert not found, "\n".join(map(str, found))


def test_an_unverified_request_purged_leaves_nothing_readable(demo_policy, deliver, settings):
    submit(Client(), deliver, email=ADDRESS, name=NAME, details=f"All about {NAME}.")
    DataSubjectRequest.objects.update(
        submitted_at=timezone.now() - datetime.timedelta(days=settings.REQUEST_VERIFY_DAYS + 1)
    )

    purge()

    assert not DataSubjectRequest.objects.exists()
    found = leftovers(settings, ADDRESS, "Zephyrine", "Quillfeather")
    assert not found, "\n".join(map(str, found))


def purge() -> None:
    call_command("purge_expired", stdout=io.StringIO())
