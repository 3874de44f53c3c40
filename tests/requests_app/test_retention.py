"""Retention enforced: `purge_expired` deletes what each app's RETENTION declares past its
period, the clock moved forward (time-machine) to just before and just after each one."""

import datetime
from http import HTTPStatus
from io import StringIO

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from consent.models import ParentalConsent, ParentalConsentEvent, PreferenceChange, Registration
from consent.preferences import marketing_preferences_set, preference_for
from privacy_portal.models import OutgoingEmail, StaffAction
from requests_app.dates import add_months
from requests_app.models import ContactMessage, DataSubjectRequest, LegalHold, RequestEvent
from tests.helpers import link_in_mail, run_stored_tasks, submit, submit_and_verify

pytestmark = pytest.mark.django_db

REQUESTS = "/admin/requests_app/datasubjectrequest/"


def later(*, months: int = 0, days: int = 0) -> datetime.datetime:
    return add_months(timezone.now(), months) + datetime.timedelta(days=days)


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_expired", *args, stdout=out)
    return out.getvalue()


def contact(email: str, message: str = "A question.") -> None:
    Client().post("/contact/", {"name": "Someone", "email": email, "message": message})


# --- Contact messages ---------------------------------------------------------------------------


def test_contact_messages_go_two_years_after_they_came_unless_held(demo_policy, admin_user):
    contact("kept@example.org")
    contact("held@example.org")
    LegalHold.objects.create(
        email="held@example.org", reason="Pending claim", created_by=admin_user
    )

    with time_machine.travel(later(months=24, days=-1)):
        purge()
    assert ContactMessage.objects.count() == 2
    with time_machine.travel(later(months=24, days=1)):
        output = purge()

    assert list(ContactMessage.objects.values_list("email", flat=True)) == ["held@example.org"]
    assert "Contact messages: 1 deleted (kept 2 years)" in output


def test_the_dry_run_lists_each_kind_of_record_and_removes_nothing(demo_policy, deliver):
    contact("old@example.org")
    submit(Client(), deliver, email="unconfirmed@example.org")

    with time_machine.travel(later(months=24, days=1)):
        output = purge("--dry-run")

    assert "Contact messages: 1 past retention, would be deleted (kept 2 years)" in output
    assert "Requests never confirmed: 1 past retention, would be deleted (kept 3 days)" in output
    assert "E-mails sent: 1 past retention, would be deleted (kept 3 months)" in output
    assert "Closed requests: 0 past retention" in output  # every rule with a period is listed
    assert ContactMessage.objects.count() == 1
    assert DataSubjectRequest.objects.count() == 1
    assert OutgoingEmail.objects.count() == 1


# --- Requests -----------------------------------------------------------------------------------


def test_a_closed_request_goes_three_years_after_closing_with_its_trail(
    demo_policy, deliver, dpo_client
):
    closed = submit_and_verify(Client(), deliver, email="closed@example.org", kind="access")
    still_open = submit_and_verify(Client(), deliver, email="open@example.org", kind="access")
    with deliver():
        dpo_client.post(f"{REQUESTS}{closed.pk}/reject/", {"reason": "We hold no data on you."})
    closed.refresh_from_db()

    with time_machine.travel(add_months(closed.closed_at, 36) - datetime.timedelta(hours=1)):
        purge()
    assert DataSubjectRequest.objects.filter(pk=closed.pk).exists()
    with time_machine.travel(add_months(closed.closed_at, 36) + datetime.timedelta(hours=1)):
        purge()

    assert list(DataSubjectRequest.objects.values_list("pk", flat=True)) == [still_open.pk]
    assert not RequestEvent.objects.filter(request_id=closed.pk).exists()
    assert not OutgoingEmail.objects.filter(to="closed@example.org").exists()


def test_a_legal_hold_keeps_a_closed_and_anonymised_request(demo_policy, deliver, dpo_client, dpo):
    request = submit_and_verify(Client(), deliver, email="held@example.org", kind="erasure")
    dpo_client.post(f"{REQUESTS}{request.pk}/erase/")
    with deliver():
        dpo_client.post(f"{REQUESTS}{request.pk}/complete/", {})
    request.refresh_from_db()
    assert request.email == ""  # anonymised: only the keyed hash is left to match the hold
    LegalHold.objects.create(email="held@example.org", reason="Claim", created_by=dpo)

    with time_machine.travel(later(months=37)):
        purge()

    assert DataSubjectRequest.objects.filter(pk=request.pk).exists()


def test_orphaned_export_files_go_once_a_link_would_have_expired(demo_policy, settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path
    orphan = tmp_path / "left-behind.zip"
    orphan.write_bytes(b"PK")

    with time_machine.travel(later(days=settings.EXPORT_LINK_DAYS - 1)):
        purge()
    assert orphan.exists()
    with time_machine.travel(later(days=settings.EXPORT_LINK_DAYS + 1)):
        purge()

    assert not orphan.exists()


# --- The portal's own records -------------------------------------------------------------------


def test_the_outbox_keeps_a_sent_mail_three_months_and_a_waiting_one_until_sent(
    demo_policy, deliver, settings
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    submit(Client(), deliver, email="sent@example.org")
    waiting = OutgoingEmail.objects.create(
        kind="test", purpose="enquiries", to="waiting@example.org", next_attempt_at=timezone.now()
    )

    with time_machine.travel(later(months=3, days=1)):
        purge()

    assert list(OutgoingEmail.objects.values_list("pk", flat=True)) == [waiting.pk]


def test_the_staff_audit_log_and_admin_history_go_after_three_years(
    demo_policy, dpo_client, admin_user
):
    dpo_client.get(REQUESTS)  # a read: one audit row
    LogEntry.objects.create(
        user=admin_user,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(admin_user.pk),
        object_repr="user 1",
        action_flag=CHANGE,
    )

    with time_machine.travel(later(months=36, days=-1)):
        purge()
    assert StaffAction.objects.exists()
    assert LogEntry.objects.exists()
    with time_machine.travel(later(months=36, days=1)):
        purge()

    assert not StaffAction.objects.exists()
    assert not LogEntry.objects.exists()


def test_expired_sessions_are_deleted(db):
    session = SessionStore()
    session["x"] = 1
    session.set_expiry(60)
    session.save()

    with time_machine.travel(later(days=1)):
        purge()

    assert not Session.objects.exists()


def test_finished_tasks_go_after_a_week(demo_policy, settings):
    from django_tasks_db.models import DBTaskResult

    from privacy_portal.outbox import email_deliver

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    email_deliver.enqueue(0)
    assert run_stored_tasks() == 1
    assert DBTaskResult.objects.filter(finished_at__isnull=False).count() == 1

    with time_machine.travel(later(days=6)):
        purge()
    assert DBTaskResult.objects.exists()

    with time_machine.travel(later(days=8)):
        purge()

    assert not DBTaskResult.objects.exists()


# --- Consent: marketing history, parental-consent records -----------------------------------


def test_marketing_history_keeps_the_change_in_force(demo_policy, deliver):
    with deliver():
        Client().post(
            "/register/",
            {
                "name": "Mo",
                "email": "mo@example.org",
                "country": "FR",
                "date_of_birth": "1990-01-01",
                "marketing_email": "on",
            },
        )
    with deliver():
        Client().post(link_in_mail(mail.outbox[-1], "/register/confirm/"))
    preference = preference_for("mo@example.org")
    marketing_preferences_set(
        preference=preference, changes={"phone": True}, actor=PreferenceChange.Actor.PERSON
    )
    others = set(preference.changes.exclude(purpose="email").values_list("pk", flat=True))
    assert others
    with time_machine.travel(later(months=1)):
        marketing_preferences_set(
            preference=preference, changes={"email": False}, actor=PreferenceChange.Actor.PERSON
        )

    with time_machine.travel(later(months=37)):
        purge()

    left = PreferenceChange.objects.filter(preference=preference)
    assert list(left.filter(purpose="email").values_list("new", flat=True)) == [False]
    # Changes of other purposes are still in force: they stay however old they are.
    assert set(left.exclude(purpose="email").values_list("pk", flat=True)) == others


def ask_a_parent(deliver) -> str:
    """A 12-year-old registers and names a parent; the link in the parent's mail."""
    child = Client()
    with deliver():
        child.post(
            "/register/",
            {
                "name": "Kim",
                "email": "kim@example.org",
                "country": "DE",
                "date_of_birth": f"{timezone.localdate().year - 12}-01-01",
            },
        )
        child.post("/register/parent/", {"parent_email": "parent@example.org"})
    return link_in_mail(mail.outbox[-1], "/parental-consent/")


def test_a_parents_answer_is_kept_three_years_after_the_childs_data(demo_policy, deliver):
    with deliver():
        Client().post(ask_a_parent(deliver), {"decision": "decline"})
    consent = ParentalConsent.objects.get()

    with time_machine.travel(later(months=36, days=-1)):
        purge()
    assert ParentalConsent.objects.filter(pk=consent.pk).exists()
    with time_machine.travel(later(months=36, days=1)):
        purge()

    assert not ParentalConsent.objects.exists()
    assert not ParentalConsentEvent.objects.exists()


def test_a_parents_answer_stays_while_the_childs_registration_lasts(demo_policy, deliver):
    with deliver():
        Client().post(ask_a_parent(deliver), {"decision": "consent", "is_guardian": "on"})

    with time_machine.travel(later(months=40)):
        purge()

    assert Registration.objects.get().parental_consent.events.count() >= 2


# --- What people are told is what is enforced ----------------------------------------------------


def test_the_register_shows_the_period_the_code_enforces(demo_policy, settings):
    settings.RETENTION_MONTHS = {"contact-messages": 12}

    page = Client().get("/contact/")

    assert page.status_code == HTTPStatus.OK
    assert "Your messages: deleted 1 year after we received them" in page.content.decode()
    contact("someone@example.org")
    with time_machine.travel(later(months=12, days=1)):
        purge()
    assert not ContactMessage.objects.exists()


def test_the_admin_shows_the_enforced_period_instead_of_an_editable_text(demo_policy, admin_client):
    from requests_app.models import ProcessingPurpose

    enquiries = ProcessingPurpose.objects.get(slug="enquiries")

    page = admin_client.get(f"/admin/requests_app/processingpurpose/{enquiries.pk}/change/")

    content = page.content.decode()
    assert "Your messages: deleted 2 years after we received them" in content
    assert 'name="retention"' not in content


def test_a_mistyped_retention_setting_stops_the_checks(settings):
    from django.core.management.base import SystemCheckError

    settings.RETENTION_MONTHS = {"contact-mesages": 12, "closed-requests": 0}

    with pytest.raises(SystemCheckError) as error:
        call_command("check")

    assert "requests_app.E001" in str(error.value)
    assert "'contact-mesages'" in str(error.value)
    assert "requests_app.E002" in str(error.value)
