"""A failing mail server delays mail and never loses it, nor the request it belongs to."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from privacy_portal.models import OutgoingEmail
from requests_app.models import DataSubjectRequest

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
