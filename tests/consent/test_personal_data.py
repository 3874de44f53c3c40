"""Registrations and parental-consent records in the access export and the erasure."""

import io
import json
import zipfile

import pytest
from django.core import mail
from django.test import Client

from consent.models import ParentalConsent, Registration
from requests_app.models import ErasureItem
from tests.consent.test_registration import ask_parent, register, years_ago
from tests.helpers import link_in_mail, submit_and_verify

pytestmark = pytest.mark.django_db
ADMIN = "/admin/requests_app/datasubjectrequest/"


@pytest.fixture
def consented_child(demo_policy, deliver):
    browser = Client()
    register(browser, deliver, born=years_ago(10), country="NL")
    ask_parent(browser, deliver, "parent@example.org")
    with deliver():
        browser.post(
            link_in_mail(mail.outbox[-1], "/parental-consent/"),
            {"decision": "consent", "is_guardian": "on"},
        )
    return Registration.objects.get(is_child=True)


def test_the_parents_access_export_holds_the_child_registration_and_the_consent_record(
    consented_child, deliver, dpo_client, settings, tmp_path
):
    settings.EXPORT_ROOT = tmp_path
    request = submit_and_verify(Client(), deliver, email="parent@example.org", kind="access")
    with deliver():
        dpo_client.post(ADMIN, {"action": "build_export", "_selected_action": [request.pk]})
    zip_bytes = b"".join(
        Client().get(link_in_mail(mail.outbox[-1], "/requests/download/")).streaming_content
    )

    document = json.loads(zipfile.ZipFile(io.BytesIO(zip_bytes)).read("data.json"))
    by_source = {record["source"]: record for record in document["records"]}
    assert by_source["Registrations"]["data"]["name"] == consented_child.name
    assert by_source["Registrations"]["purpose"] == "parental-consent"
    history = by_source["Parental consents"]["data"]["history"]
    assert any("Parent consented" in line for line in history)
    assert (
        document["purposes"]["parental-consent"]["legal_basis"] == "Legal obligation (Art. 6(1)(c))"
    )


def test_erasure_deletes_the_child_registration_and_keeps_the_evidence(
    consented_child, deliver, dpo_client
):
    consent = consented_child.parental_consent
    request = submit_and_verify(Client(), deliver, email="parent@example.org", kind="erasure")

    dpo_client.post(f"{ADMIN}{request.pk}/erase/")

    assert not Registration.objects.exists()
    assert ParentalConsent.objects.filter(pk=consent.pk).exists()
    assert consent.events.order_by("-at", "-id").first().state == "erased"
    outcomes = dict(
        ErasureItem.objects.filter(request=request).values_list("record_type", "outcome")
    )
    assert outcomes["Registration"] == "deleted"
    assert outcomes["Parental consent"] == "retained"
