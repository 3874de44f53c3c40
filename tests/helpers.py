"""Helpers shared by the tests: links in mails, and a request's way through the portal."""

import re

from django.core import mail
from django.test import Client

from requests_app.models import DataSubjectRequest

ALICE = "alice@example.org"
BOB = "bob@example.org"


def link_in_mail(message, path_part: str) -> str:
    """The path of the first link in `message` containing `path_part`."""
    url = re.search(rf"https?://[^\s]+{re.escape(path_part)}[^\s]*", message.body).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def submit(client: Client, deliver, *, email=ALICE, kind="access", name="Alice", details=""):
    with deliver():
        return client.post(
            "/requests/new/", {"kind": kind, "name": name, "email": email, "details": details}
        )


def submit_and_verify(client: Client, deliver, **kwargs) -> DataSubjectRequest:
    before = len(mail.outbox)
    submit(client, deliver, **kwargs)
    verification = mail.outbox[before]
    verify_path = link_in_mail(verification, "/requests/verify/")
    with deliver():
        client.post(verify_path)
    return DataSubjectRequest.objects.order_by("-pk").first()


def change_form_data(page, request: DataSubjectRequest, **fields) -> dict:
    """The POST data of a request's admin change page as loaded, plus `fields`: the
    management forms and ids of its inlines, as a browser would send them back."""
    data = {"assignee": "", "note": ""}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        prefix = formset.prefix
        data |= {
            f"{prefix}-TOTAL_FORMS": str(len(formset.forms)),
            f"{prefix}-INITIAL_FORMS": str(len(formset.forms)),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
        for index, form in enumerate(formset.forms):
            data[f"{prefix}-{index}-id"] = form.instance.pk
            data[f"{prefix}-{index}-request"] = request.pk
    return data | fields
