"""Helpers shared by the tests: links in mails, and a request's way through the portal."""

import re
import socket

from django.core import mail
from django.test import Client

from requests_app.models import DataSubjectRequest

ALICE = "alice@example.org"
BOB = "bob@example.org"
REDIS = ("127.0.0.1", 6379)


def redis_answers() -> bool:
    """Whether the Redis on 127.0.0.1:6379 answers (the machines and CI have one)."""
    try:
        with socket.create_connection(REDIS, timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


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


def public_paths(*, token: str = "not-a-real-token", number: int = 1) -> dict[str, str]:
    """View name -> a concrete path for every public (non-admin) URL pattern of the project,
    path parameters filled with `token` or `number`. Built from the URL resolver, so a new
    public page is covered by every test that walks this list."""
    from django.urls import URLPattern, URLResolver, get_resolver, reverse

    paths: dict[str, str] = {}

    def walk(patterns, namespace: str = "") -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}{entry.name}"
                kwargs = {
                    key: (number if "version" in str(converter.__class__).lower() else token)
                    for key, converter in entry.pattern.converters.items()
                }
                paths[name] = reverse(name, kwargs=kwargs)

    walk(get_resolver().url_patterns)
    return paths


def statements(queries) -> list[str]:
    """The SQL a request ran, with its values (and savepoint names) blanked: what work, not
    on which row."""
    return [re.sub(r"'[^']*'|\b\d+\b|\"s\d+_x\d+\"", "?", query["sql"]) for query in queries]
