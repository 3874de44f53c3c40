"""A failing mail server delays mail and never loses it, nor the request it belongs to; what a
visitor typed arrives in every mail as the text they typed."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from privacy_portal.models import OutgoingEmail
from requests_app.models import DataSubjectRequest
from tests.conftest import BASE_DIR
from tests.helpers import assert_mail_inert, hostile_name

pytestmark = pytest.mark.django_db

# A real SMTP backend pointed at a port where nothing listens: connection refused.
REFUSING = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
    }
}


def test_a_refusing_mail_server_keeps_the_request_and_the_mail_for_later(
    demo_policy, settings, django_capture_on_commit_callbacks
):
    working = settings.MAILERS
    settings.MAILERS = REFUSING
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/requests/new/", {"kind": "access", "name": "A", "email": "a@example.org"}
        )

    assert response.status_code == 303
    assert DataSubjectRequest.objects.count() == 1
    queued = OutgoingEmail.objects.get()
    assert (queued.status, queued.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in queued.last_error
    assert queued.next_attempt_at > timezone.now()

    out = StringIO()
    call_command("send_queued_emails", stdout=out)  # not due yet: nothing tried
    assert "Sent 0" in out.getvalue()

    settings.MAILERS = working  # the mail server is back
    later = timezone.now() + datetime.timedelta(hours=1)
    OutgoingEmail.objects.filter(pk=queued.pk).update(
        next_attempt_at=later - datetime.timedelta(hours=2)
    )
    call_command("send_queued_emails", stdout=out)

    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == ("sent", 2)
    assert mail.outbox[-1].to == ["a@example.org"]
    assert "Sent 1" in out.getvalue()


def test_mail_is_given_up_after_the_maximum_attempts(
    demo_policy, settings, django_capture_on_commit_callbacks
):
    settings.MAILERS = REFUSING
    settings.EMAIL_MAX_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/requests/new/", {"kind": "access", "name": "A", "email": "a@example.org"})
    OutgoingEmail.objects.update(next_attempt_at=timezone.now())

    call_command("send_queued_emails", stdout=StringIO())

    assert OutgoingEmail.objects.get().status == "failed"
    assert DataSubjectRequest.objects.count() == 1


# --- What a visitor typed, in every kind of mail -------------------------------------------
# Each kind of mail, sent by the service that sends it, with the hostile name wherever a
# person's text goes (the name; for the DPO's reasons, the same text): what it should say
# in its subject, and which of the portal's own links it carries.


def _request(deliver, *, verified: bool = True) -> DataSubjectRequest:
    from requests_app.services import request_submit, request_verify

    with deliver():
        request = request_submit(
            kind="access", name=hostile_name(), email="a@example.org", language="en"
        )
        if verified:
            request = request_verify(request=request)
    return request


def _verification(deliver, dpo, settings):
    _request(deliver, verified=False)
    return "Please confirm your request", ["/requests/verify/"]


def _acknowledgement(deliver, dpo, settings):
    request = _request(deliver)
    return f"We received your request {request.reference}", ["/requests/status/"]


def _status_changed(deliver, dpo, settings):
    from requests_app.services import request_transition

    request = _request(deliver)
    with deliver():
        request_transition(request=request, to_status="in_progress", by=dpo)
    return f"Your request {request.reference}: In progress", ["/requests/status/"]


def _extension(deliver, dpo, settings):
    from requests_app.services import request_extend

    request = _request(deliver)
    with deliver():
        request_extend(request=request, months=1, reason=hostile_name(), by=dpo)
    return f"We need more time for your request {request.reference}", ["/requests/status/"]


def _export_ready(deliver, dpo, settings):
    from requests_app.services import request_export_build

    request = _request(deliver)
    with deliver():
        request_export_build(request=request, by=dpo)
    return f"Your data is ready to download ({request.reference})", ["/requests/download/"]


def _completed(deliver, dpo, settings):
    from requests_app.services import request_complete, request_export_build

    request = _request(deliver)
    with deliver():
        request_export_build(request=request, by=dpo)
        request_complete(request=request, by=dpo, outcome=hostile_name())
    links = ["/requests/download/", "/requests/status/"]
    return f"Your request {request.reference} is complete", links


def _rejected(deliver, dpo, settings):
    from requests_app.services import request_reject

    request = _request(deliver)
    with deliver():
        request_reject(request=request, reason=hostile_name(), by=dpo)
    return f"Your request {request.reference}", ["/requests/status/"]


def _registration(deliver, *, email: str = "r@example.org"):
    from consent.registration import registration_submit

    with deliver():
        return registration_submit(
            name=hostile_name(),
            email=email,
            country="FR",
            interests=[],
            marketing_choices={"email": True},
            language="en",
        )


def _registration_confirm(deliver, dpo, settings):
    _registration(deliver)
    return "Please confirm your registration", ["/register/confirm/"]


def _child(deliver):
    from consent.registration import Screen, parental_consent_request

    screen = Screen(
        child=True, first_name=hostile_name(), country="DE", birth_year=timezone.now().year - 12
    )
    with deliver():
        return parental_consent_request(
            screen=screen, parent_email="parent@example.org", language="en"
        )


def _parent_request(deliver, dpo, settings):
    _child(deliver)
    return f"Your consent is asked for {hostile_name()}'s registration", ["/parental-consent/"]


def _parent_confirmation(deliver, dpo, settings):
    from consent.registration import parental_consent_decide

    child = _child(deliver)
    with deliver():
        parental_consent_decide(registration=child, consents=True, is_guardian=True)
    subject = f"You consented to {hostile_name()}'s registration"
    return subject, ["/parental-consent/manage/"]


def _coming_of_age(deliver, dpo, settings):
    from consent.models import Registration
    from consent.registration import parental_consent_decide, registrations_coming_of_age

    child = _child(deliver)
    with deliver():
        parental_consent_decide(registration=child, consents=True, is_guardian=True)
    Registration.objects.filter(pk=child.pk).update(birth_year=timezone.now().year - 18)
    with deliver():
        registrations_coming_of_age()
    return f"{hostile_name()}: your registration, your decision", ["/register/own-consent/"]


def _preferences_link(deliver, dpo, settings):
    # No service sends it: the link form's view queues it.
    _registration(deliver, email="p@example.org")
    with deliver():
        Client().post("/preferences/", {"email": "p@example.org"})
    return "Your marketing preferences", ["/preferences/"]


MAIL_SENDERS = {
    "requests_app/email/verification": _verification,
    "requests_app/email/acknowledgement": _acknowledgement,
    "requests_app/email/status_changed": _status_changed,
    "requests_app/email/extension": _extension,
    "requests_app/email/export_ready": _export_ready,
    "requests_app/email/completed": _completed,
    "requests_app/email/rejected": _rejected,
    "consent/email/registration_confirm": _registration_confirm,
    "consent/email/parent_request": _parent_request,
    "consent/email/parent_confirmation": _parent_confirmation,
    "consent/email/coming_of_age": _coming_of_age,
    "consent/email/preferences_link": _preferences_link,
}

# The preferences link mail names no one: nothing a person typed is in it.
SAYS_NOTHING_TYPED = {"consent/email/preferences_link"}


def test_every_mail_template_is_sent_in_the_test_below():
    templates = {
        f"{path.parent.parent.name}/email/{path.stem}"
        for app in ("requests_app", "consent")
        for path in (BASE_DIR / app / "templates" / app / "email").glob("*.txt")
        if not path.stem.endswith("_subject")
    }

    assert templates == set(MAIL_SENDERS)


@pytest.mark.parametrize("template", MAIL_SENDERS)
def test_what_a_visitor_typed_arrives_as_plain_text_in_every_mail(
    template, demo_policy, deliver, dpo, settings, tmp_path
):
    settings.EXPORT_ROOT = tmp_path
    subject, links = MAIL_SENDERS[template](deliver, dpo, settings)

    message = mail.outbox[-1]
    assert OutgoingEmail.objects.order_by("pk").last().kind.endswith(template.rsplit("/")[-1])
    typed = None if template in SAYS_NOTHING_TYPED else hostile_name()
    assert_mail_inert(message, typed=typed, subject=subject, links=links)
