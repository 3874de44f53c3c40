"""Helpers shared by the tests: links in mails, a request's way through the portal, and the
public pages with the flows that reach those opened from mailed links."""

import re
import socket
import uuid
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser

from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils.html import strip_tags

from consent.models import Registration
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


def redis_commands(port: int, action: Callable[[], object]) -> list[str]:
    """The commands clients sent to the redis-server on `port` while `action` ran, as
    Redis's MONITOR saw them: one per command a client sent, none for what a Lua script
    runs inside Redis (that costs no round trip)."""
    import redis

    marker = f"end-of-action-{uuid.uuid4().hex}"
    commands = []
    with (
        redis.Redis("127.0.0.1", port, socket_timeout=5) as watcher,
        redis.Redis("127.0.0.1", port, socket_timeout=5) as sender,
    ):
        sender.ping()  # its connection's handshake before watching, so it is not listed
        with watcher.monitor() as monitor:  # watching from here on
            action()
            sender.echo(marker)
            while marker not in (seen := monitor.next_command())["command"]:
                if seen["client_type"] != "lua":
                    commands.append(seen["command"])
    return commands


def visible_text(html: str) -> str:
    """What a reader sees: no scripts, styles or attributes, whitespace folded.

    Assert that a page does not show something on this, not on the markup: a random token
    in the markup (a CSRF token, a nonce) can contain any short word by chance."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(strip_tags(html))).strip()


def link_in_mail(message, path_part: str) -> str:
    """The path of the first link in `message` containing `path_part`."""
    url = re.search(rf"https?://[^\s]+{re.escape(path_part)}[^\s]*", message.body).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def hostile_name() -> str:
    """A name as an attacker would type it into a public form: a hidden link dressed as one
    of the portal's own, a visible link of their own, and characters HTML escapes (the
    apostrophe is also a real name's). It has to arrive in every mail as the text typed."""
    from django.conf import settings

    return (
        f'<a href="https://evil.example/">{settings.PORTAL_BASE_URL}/requests/status/x</a> '
        "https://evil.example/x O'Brien & <b>"
    )


# The elements of the mail layout (templates/email/base.html) and of the text made HTML.
MAIL_LAYOUT_TAGS = {"html", "head", "meta", "title", "body", "div", "p", "br", "hr", "a"}


class _MailHTML(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.anchors: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._anchor: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "a":
            self._anchor = []
            self.anchors.append((dict(attrs).get("href", ""), ""))

    def handle_endtag(self, tag):
        if tag == "a" and self._anchor is not None:
            self.anchors[-1] = (self.anchors[-1][0], "".join(self._anchor))
            self._anchor = None

    def handle_data(self, data):
        self.text.append(data)
        if self._anchor is not None:
            self._anchor.append(data)


def assert_mail_inert(message, *, typed: str | None, subject: str, links: list[str]) -> None:
    """`message` (as sent) shows what a visitor `typed` (None: a mail that says nothing a
    visitor typed) as plain text in both parts, and its HTML part links only the portal's
    own links: one per path prefix in `links`, in order, each showing its own address."""
    from django.conf import settings

    assert message.subject == subject
    assert typed is None or typed in message.body  # plain text: as typed, nothing escaped
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    parsed = _MailHTML()
    parsed.feed(html)
    parsed.close()
    assert typed is None or typed in "".join(parsed.text)  # shown, escaped, as text
    assert {tag for tag, _ in parsed.elements} <= MAIL_LAYOUT_TAGS
    assert not [attrs for _, attrs in parsed.elements if "evil.example" in str(attrs)]
    assert len(parsed.anchors) == len(links), parsed.anchors
    for (href, text), path in zip(parsed.anchors, links, strict=True):
        assert href.startswith(settings.PORTAL_BASE_URL + path), (href, path)
        assert text == href
        assert re.search(rf"^(.*: )?{re.escape(href)}$", message.body, re.MULTILINE)


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


def run_stored_tasks() -> int:
    """Run the tasks waiting in the database backend as db_worker would (claim, run, store
    the result), in this thread and connection: db_worker closes the connection, which a
    test's transaction cannot survive on PostgreSQL. Returns how many ran."""
    from django_tasks_db.models import DBTaskResult

    count = 0
    while (stored := DBTaskResult.objects.ready().first()) is not None:
        stored.claim("test-worker")
        arguments = stored.args_kwargs
        stored.set_successful(stored.task.call(*arguments["args"], **arguments["kwargs"]))
        count += 1
    return count


# --- Public pages and the flows that reach those opened from mailed links -----------------

# Public URL patterns that answer no HTML page to a browser's GET (asserted in
# tests/e2e/test_accessibility.py).
NOT_PAGES = {
    "privacy_portal:healthz": "JSON for load balancers",
    "consent:decide": "the banner's POST endpoint",
    "consent:receipt": "a JSON download",
    "consent:banner": "JSON for the banner's module (the settings reopened after a decision)",
    "set_language": "the language switch: a POST answered by a redirect",
}
# Pages opened from a mailed link whose valid token answers no page (a zip download).
NO_PAGE_WITH_A_VALID_TOKEN = {"requests_app:request-download"}


def _registration_mails(client: Client, deliver, *, email: str, age: int, country: str) -> None:
    from tests.consent.test_registration import years_ago

    with deliver():
        client.post(
            "/register/",
            {
                "name": "Kim Lee",
                "email": email,
                "country": country,
                "date_of_birth": years_ago(age).isoformat(),
                "marketing_email": "on",
            },
        )


def _child_with_asked_parent(client: Client, deliver) -> None:
    _registration_mails(client, deliver, email="kim@example.org", age=12, country="DE")
    with deliver():
        client.post("/register/parent/", {"parent_email": "parent@example.org"})


def _parent_consented(client: Client, deliver) -> None:
    _child_with_asked_parent(client, deliver)
    with deliver():
        client.post(
            link_in_mail(mail.outbox[-1], "/parental-consent/"),
            {"decision": "consent", "is_guardian": "on"},
        )


def _confirmed_adult(client: Client, deliver) -> None:
    _registration_mails(client, deliver, email=ALICE, age=30, country="FR")
    with deliver():
        client.post(link_in_mail(mail.outbox[-1], "/register/confirm/"))


def _request_verify(client: Client, deliver) -> str:
    submit(client, deliver)
    return link_in_mail(mail.outbox[-1], "/requests/verify/")


def _request_status(client: Client, deliver) -> str:
    submit_and_verify(client, deliver)
    return link_in_mail(mail.outbox[-1], "/requests/status/")


def _register_confirm(client: Client, deliver) -> str:
    _registration_mails(client, deliver, email=ALICE, age=30, country="FR")
    return link_in_mail(mail.outbox[-1], "/register/confirm/")


def _register_parent(client: Client, deliver) -> str:
    _registration_mails(client, deliver, email="kim@example.org", age=12, country="DE")
    return "/register/parent/"  # the browser gets this client's screened session


def _parental_consent(client: Client, deliver) -> str:
    _child_with_asked_parent(client, deliver)
    return link_in_mail(mail.outbox[-1], "/parental-consent/")


def _parental_manage(client: Client, deliver) -> str:
    _parent_consented(client, deliver)
    return link_in_mail(mail.outbox[-1], "/parental-consent/manage/")


def _own_consent(client: Client, deliver) -> str:
    _parent_consented(client, deliver)
    Registration.objects.filter(is_child=True).update(birth_year=1990)
    with deliver():
        call_command("process_coming_of_age", verbosity=0)
    return link_in_mail(mail.outbox[-1], "/register/own-consent/")


def _preference_centre(client: Client, deliver) -> str:
    _confirmed_adult(client, deliver)
    with deliver():
        client.post("/preferences/", {"email": ALICE})
    return link_in_mail(mail.outbox[-1], "/preferences/")


def _unsubscribe(client: Client, deliver) -> str:
    _confirmed_adult(client, deliver)
    header = mail.outbox[-1].extra_headers["List-Unsubscribe"]
    return "/" + header.strip("<>").split("://", 1)[1].split("/", 1)[1]


# Pages that show what they are for only after the steps before them: opened from a mailed
# link with a real token, or (the parent step) in the session of a child's registration.
FLOW_PAGES: dict[str, Callable[[Client, Callable], str]] = {
    "requests_app:request-verify": _request_verify,
    "requests_app:request-status": _request_status,
    "registration:confirm": _register_confirm,
    "registration:parent": _register_parent,
    "registration:parental-consent": _parental_consent,
    "registration:parental-manage": _parental_manage,
    "registration:own-consent": _own_consent,
    "preferences:centre": _preference_centre,
    "preferences:unsubscribe": _unsubscribe,
}


def token_pages() -> set[str]:
    """The public pages whose path carries a token from a mailed link."""
    one, other = public_paths(token="one"), public_paths(token="other")
    return {name for name in one if one[name] != other[name]}
