"""Who may open what in the admin: every admin URL of the project, for each staff role.

The expected sets are written out: a new model or permission that widens a role must
change this file on purpose.
"""

from http import HTTPStatus

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from consent.models import ConsentSeal
from privacy_portal.models import StaffAction
from privacy_portal.roles import roles_sync
from privacy_portal.services import totp_device_enrol
from requests_app.models import LegalHold, Recipient
from tests.consent.test_preferences import registrant
from tests.consent.test_registration import ask_parent, register, years_ago
from tests.helpers import link_in_mail, submit_and_verify

pytestmark = pytest.mark.django_db

REQUEST_VIEWS = ["subject", "erase", "extend", "complete", "reject"]


@pytest.fixture
def everything(demo_policy, deliver, settings):
    """At least one object of every model the admin shows."""
    settings.CONSENT_SEAL_DELAY_SECONDS = 0
    browser = Client()
    browser.post("/consent/", {"action": "accept_all", "scope": "prompt", "next": "/"})
    registrant(deliver, "ann@example.org", ticked=("email",), browser=browser)
    child = Client()
    register(child, deliver, born=years_ago(9), country="DE")
    ask_parent(child, deliver)
    with deliver():
        Client().post("/preferences/", {"email": "ann@example.org"})
    Client().post(link_in_mail(mail.outbox[-1], "/preferences/"), {"phone": "on"})
    Client().post("/contact/", {"name": "C", "email": "c@example.org", "message": "Hi"})
    submit_and_verify(Client(), deliver, email="ann@example.org", kind="access")
    Recipient.objects.create(name="Partner", kind="partner")
    someone = User.objects.create_user("someone", "someone@example.com", "pw")
    totp_device_enrol(user=someone)
    LegalHold.objects.create(email="x@example.org", reason="Claim")
    from consent.sealing import consent_log_seal

    consent_log_seal()
    assert ConsentSeal.objects.exists()
    # A staff read, so the audit log has a row.
    dpo = User.objects.create_superuser("auditor", "auditor@example.com", "pw")
    auditor = Client()
    auditor.force_login(dpo)
    auditor.get(reverse("admin:requests_app_datasubjectrequest_changelist"))
    assert StaffAction.objects.exists()


def admin_urls() -> dict[str, str]:
    """Label -> URL for every changelist, add page and change page, and the request views."""
    urls = {"index": reverse("admin:index")}
    for model in admin.site._registry:
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls[f"{label}:changelist"] = reverse(f"{prefix}_changelist")
        urls[f"{label}:add"] = reverse(f"{prefix}_add")
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            urls[f"{label}:change"] = reverse(f"{prefix}_change", args=[obj.pk])
            if label == "requests_app.datasubjectrequest":
                for view in REQUEST_VIEWS:
                    urls[f"{label}:{view}"] = reverse(
                        f"admin:requests_app_datasubjectrequest_{view}", args=[obj.pk]
                    )
    return urls


def allowed_for(client: Client) -> set[str]:
    return {
        label for label, url in admin_urls().items() if client.get(url).status_code == HTTPStatus.OK
    }


def client_for(group: str | None) -> Client:
    user = User.objects.create_user(f"staff-{group}", f"{group}@example.com", "pw", is_staff=True)
    if group:
        user.groups.add(roles_sync()[group])
    client = Client()
    client.force_login(user)
    return client


def both(*labels: str) -> set[str]:
    return {f"{label}:{page}" for label in labels for page in ["changelist", "change"]}


def test_every_admin_url_is_covered(everything):
    urls = admin_urls()
    missing = [
        label
        for label in urls
        if label.endswith(":changelist") and label.replace(":changelist", ":change") not in urls
    ]
    # Only Django's task results may be empty (tasks run at once in tests).
    assert missing == ["django_tasks_database.dbtaskresult:changelist"]


def test_marketing_staff_see_only_marketing_preferences(everything):
    assert allowed_for(client_for("Marketing")) == {"index"} | both(
        "consent.marketingpreference", "consent.preferencechange"
    )


def test_the_dpo_sees_exactly_the_privacy_work(everything):
    expected = (
        {"index"}
        | both(
            "privacy_portal.policyversion",
            "privacy_portal.outgoingemail",
            "privacy_portal.staffaction",
            "consent.cookiecategory",
            "consent.cookie",
            "consent.consentrecord",
            "consent.consentseal",
            "consent.bannertext",
            "consent.registration",
            "consent.parentalconsent",
            "consent.marketingpreference",
            "consent.preferencechange",
            "requests_app.datasubjectrequest",
            "requests_app.contactmessage",
            "requests_app.processingpurpose",
            "requests_app.recipient",
            "requests_app.legalhold",
        )
        | {
            "privacy_portal.policyversion:add",
            "consent.cookiecategory:add",
            "consent.cookie:add",
            "requests_app.processingpurpose:add",
            "requests_app.recipient:add",
            "requests_app.legalhold:add",
        }
        | {f"requests_app.datasubjectrequest:{view}" for view in REQUEST_VIEWS}
    )

    assert allowed_for(client_for("DPO")) == expected


def test_plain_staff_see_nothing_but_the_index(everything):
    assert allowed_for(client_for(None)) == {"index"}
