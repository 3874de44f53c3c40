"""German throughout: pages, banner, e-mails and the language switcher, and a catalogue in
which nothing is left untranslated."""

import datetime
import gettext
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation

from consent.declarations import CATEGORIES, COOKIES
from consent.models import BannerText, ConsentRecord
from privacy_portal.demo import DEMO_DIR, demo_policy_load
from privacy_portal.services import policy_draft_create, policy_publish
from requests_app.models import DataSubjectRequest
from requests_app.register import PURPOSES
from tests.conftest import BASE_DIR, IN_CI
from tests.helpers import link_in_mail, visible_text

pytestmark = pytest.mark.django_db

PO_FILE = BASE_DIR / "locale" / "de" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")

# Each public page (without a token) and German it must show under `Accept-Language: de`.
GERMAN_PAGES = {
    "/": ["Ihre Privatsphäre bei", "Ihre Rechte", "Cookie-Einstellungen"],
    "/privacy/": ["Personenbezogene Daten", "Zuletzt aktualisiert", "Verwendung von Google"],
    "/privacy/history/": ["Versionsverlauf der Datenschutzerklärung", "Erste Version unserer"],
    "/privacy/v/1/": ["Sie lesen Version 1 der Datenschutzerklärung", "Zweckbindung"],
    "/privacy/v/2/diff/": ["Änderungen in Version 2", "Sicherheit", "Unveränderte Abschnitte"],
    "/cookies/": ["Cookies, die wir verwenden", "Unbedingt erforderlich", "Diese Website"],
    "/requests/new/": ["Was sollen wir für Sie tun?", "Auskunft über meine Daten", "Um Anträge"],
    "/contact/": ["Ihre Frage oder Anmerkung", "über das Kontaktformular", "Berechtigte"],
    "/register/": ["Für Neuigkeiten und Angebote registrieren", "Geburtsdatum"],
    "/preferences/": ["Marketing-Einstellungen", "Link senden"],
}
# The same pages under English, so the test would notice German shown to everyone.
ENGLISH_PAGES = {
    "/": "Your rights",
    "/privacy/": "Personal data",
    "/privacy/history/": "Policy history",
    "/privacy/v/1/": "Purpose Limitation",
    "/privacy/v/2/diff/": "Changes in version 2",
    "/cookies/": "Cookies we use",
    "/requests/new/": "What would you like us to do?",
    "/contact/": "Your question or comment",
    "/register/": "Register for news and offers",
    "/preferences/": "Send me the link",
}


# --- The catalogue -------------------------------------------------------------------------


def _unquote(lines: list[str]) -> str:
    return "".join(
        bytes(line.strip()[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode()
        for line in lines
    )


def po_entries(path: Path) -> list[dict]:
    """msgctxt, msgid, msgid_plural, msgstr list and flags of each entry of a .po file (a
    small reader: enough for the files makemessages writes)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": {}}
        key = None
        parts: dict = {}
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                parts[key].append(line)
            else:
                key, _, rest = line.partition(" ")
                parts[key] = [rest]
        if "msgid" not in parts:
            continue
        entry["msgctxt"] = _unquote(parts["msgctxt"]) if "msgctxt" in parts else None
        entry["msgid"] = _unquote(parts["msgid"])
        entry["msgid_plural"] = _unquote(parts["msgid_plural"]) if "msgid_plural" in parts else None
        entry["msgstr"] = [
            _unquote(lines) for name, lines in sorted(parts.items()) if name.startswith("msgstr")
        ]
        entries.append(entry)
    return entries


def _catalogue() -> list[dict]:
    return [entry for entry in po_entries(PO_FILE) if entry["msgid"]]


def english_phrases() -> set[str]:
    """English visitors read that German visitors must not: the catalogue's phrases (two
    words or more, no placeholders, translated to something else) and the English texts
    of the seeded declarations and purposes."""
    phrases = {
        entry["msgid"]
        for entry in _catalogue()
        if " " in entry["msgid"].strip()
        and "%" not in entry["msgid"]
        and "<" not in entry["msgid"]
        and entry["msgstr"][0] != entry["msgid"]
    }
    for rows, fields in (
        (CATEGORIES, ["name", "description"]),
        (COOKIES, ["provider", "purpose", "duration"]),
        (PURPOSES, ["name", "description", "data_categories", "retention"]),
    ):
        for row in rows:
            phrases |= {row[f] for f in fields if f"{f}_de" in row and row[f] != row[f"{f}_de"]}
    # A single word can be a name in German text too ("Google Analytics"): phrases only.
    return {phrase for phrase in phrases if " " in phrase.strip()}


def english_left(text: str) -> list[str]:
    return sorted(phrase for phrase in english_phrases() if phrase in text)


@pytest.fixture
def demo_policies(db):
    """The demo versions in English and in German, as `make run` loads them."""
    return demo_policy_load()


@pytest.fixture(autouse=True)
def _english_afterwards():
    """A German request leaves German active in this thread; the next test starts in the
    default language, as a new request would."""
    yield
    translation.deactivate()


def _german(client: Client, path: str):
    return client.get(path, headers={"Accept-Language": "de"})


# --- Pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", GERMAN_PAGES)
def test_every_public_page_is_german_under_accept_language_de(client, demo_policies, path):
    response = _german(client, path)
    html = response.content.decode()
    text = visible_text(html)

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "de"
    assert '<html lang="de"' in html
    for phrase in GERMAN_PAGES[path]:
        assert phrase in text, phrase
    assert english_left(text) == []


@pytest.mark.parametrize("path", ENGLISH_PAGES)
def test_the_same_pages_stay_english_for_english_readers(client, demo_policies, path):
    response = client.get(path, headers={"Accept-Language": "en"})

    assert ENGLISH_PAGES[path] in visible_text(response.content.decode())
    assert response.headers["Content-Language"] == "en"


def test_the_german_policy_is_the_german_demo_version(client, demo_policies):
    page = visible_text(_german(client, "/privacy/").content.decode())

    assert "Version 2" in page
    assert "innerhalb eines Monats nach ihrem Eingang" in page
    assert "Commitment to Data Privacy Protection" not in page


def test_a_language_without_a_published_policy_falls_back_to_english(client):
    english = (DEMO_DIR / "policy-v1.en.md").read_text(encoding="utf-8")
    draft = policy_draft_create(
        language="en", body=english, effective_date=datetime.date(2025, 5, 25)
    )
    policy_publish(version=draft)

    response = _german(client, "/privacy/")

    assert response.status_code == 200
    assert "Personal data" in visible_text(response.content.decode())


def test_after_the_switcher_pages_are_german_without_accept_language(client, demo_policies):
    switched = client.post("/i18n/setlang/", {"language": "de", "next": "/privacy/"})

    assert switched.status_code == 302
    assert switched.headers["Location"] == "/privacy/"
    page = client.get("/privacy/")  # no Accept-Language: the switcher's cookie decides
    assert page.headers["Content-Language"] == "de"
    text = visible_text(page.content.decode())
    assert "Personenbezogene Daten" in text
    assert english_left(text) == []

    client.post("/i18n/setlang/", {"language": "en", "next": "/privacy/"})
    assert "Personal data" in visible_text(client.get("/privacy/").content.decode())


# --- The banner and its hash ---------------------------------------------------------------


def _banner_html(page: str) -> str:
    start = page.index('<div id="cc"')
    return page[start : page.index("</form>", start)]


def test_the_german_banner_has_no_english(client, demo_policies):
    banner = _banner_html(_german(client, "/").content.decode())
    text = visible_text(banner)

    assert "Alle akzeptieren" in text
    assert "Alle ablehnen" in text
    labels = dict(re.findall(r'<label for="cc-([a-z]+)">([^<]+)</label>', banner))
    german = {c["slug"]: c["name_de"] for c in CATEGORIES}
    assert labels == {slug: german[slug] for slug in labels}
    assert len(labels) == len(CATEGORIES)
    for category in CATEGORIES:
        assert category["description_de"] in text
        assert category["description"] not in text
    assert english_left(text) == []


def _decision(client: Client, language: str) -> ConsentRecord:
    before = set(ConsentRecord.objects.values_list("pk", flat=True))
    page = client.get("/", headers={"Accept-Language": language}).content.decode()
    revision = re.search(r'name="revision" value="([^"]+)"', page).group(1)
    client.post(
        "/consent/",
        {"action": "accept_all", "scope": "prompt", "next": "/", "revision": revision},
        headers={"Accept-Language": language},
    )
    return ConsentRecord.objects.exclude(pk__in=before).get()


def test_the_logged_banner_hash_is_that_of_the_german_text_shown(demo_policies):
    german_page = Client().get("/", headers={"Accept-Language": "de"}).content.decode()
    german = _decision(Client(), "de")
    english = _decision(Client(), "en")

    shown = visible_text(_banner_html(german_page))
    stored = BannerText.objects.get(sha256=german.banner_sha256)
    assert german.language == stored.language == "de"
    assert stored.text == shown
    assert german.banner_sha256 == hashlib.sha256(f"de\n{shown}".encode()).hexdigest()
    assert english.banner_sha256 != german.banner_sha256
    assert "Accept all" in BannerText.objects.get(sha256=english.banner_sha256).text
    # One revision for both languages: a decision holds whatever language is read next.
    assert german.config_revision == english.config_revision


def test_a_decision_holds_when_the_visitor_switches_language(client, demo_policies):
    _decision(client, "en")

    page = client.get("/", headers={"Accept-Language": "de"}).content.decode()
    banner_tag = page[page.index('<div id="cc"') :].split(">", 1)[0]

    assert " hidden" in banner_tag  # nothing to ask again: the German text is no new choice


# --- E-mails -------------------------------------------------------------------------------


def test_a_request_made_in_german_is_answered_in_german(client, demo_policies, deliver, dpo_client):
    with deliver():
        client.post(
            "/requests/new/",
            {"kind": "access", "name": "Anna", "email": "anna@example.org", "details": ""},
            headers={"Accept-Language": "de"},
        )
    verification = mail.outbox[-1]
    assert verification.subject == "Bitte bestätigen Sie Ihren Antrag"
    assert "„Auskunft über meine Daten“" in verification.body
    assert "Der Link ist 3 Tage gültig." in verification.body
    assert english_left(verification.body) == []
    html_part = verification.alternatives[0][0]
    assert '<html lang="de"' in html_part

    # Later mail follows the request's language, whoever triggers it (here an English DPO).
    with deliver():
        client.post(link_in_mail(verification, "/requests/verify/"))
    request = DataSubjectRequest.objects.get()
    acknowledgement = mail.outbox[-1]
    assert request.language == "de"
    assert acknowledgement.subject == f"Wir haben Ihren Antrag {request.reference} erhalten"
    assert english_left(acknowledgement.body) == []
    with deliver():
        dpo_client.post(
            f"/admin/requests_app/datasubjectrequest/{request.pk}/reject/",
            {"reason": "Wir konnten Ihre Identität nicht feststellen."},
            headers={"Accept-Language": "en"},
        )
    rejection = mail.outbox[-1]
    assert rejection.subject == f"Ihr Antrag {request.reference}"
    assert "Der Grund:" in rejection.body
    assert english_left(rejection.body) == []


# --- The catalogue is complete and compiled --------------------------------------------------


def test_the_catalogue_has_no_untranslated_or_fuzzy_entry():
    entries = _catalogue()

    assert len(entries) > 500
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == []
    assert [e["msgid"] for e in entries if not all(e["msgstr"])] == []
    plurals = [e for e in entries if e["msgid_plural"]]
    assert plurals
    assert all(len(e["msgstr"]) == 2 for e in plurals)


def test_placeholders_are_kept_in_every_translation():
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\{ *\w+ *\}\}")
    wrong = []
    for entry in _catalogue():
        sources = [entry["msgid"], entry["msgid_plural"] or entry["msgid"]]
        for source, translated in zip(sources, entry["msgstr"], strict=False):
            if sorted(set(placeholder.findall(source))) != sorted(
                set(placeholder.findall(translated))
            ):
                wrong.append(entry["msgid"])
    assert wrong == []


def test_the_compiled_catalogue_matches_the_po_file():
    """The .mo is committed (a fresh machine may have no gettext tools): it must be the
    compilation of the .po as it is now."""
    with MO_FILE.open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for entry in _catalogue():
        if entry["msgid_plural"]:
            for n, expected in ((1, entry["msgstr"][0]), (2, entry["msgstr"][1])):
                if entry["msgctxt"] is not None:
                    got = catalogue.npgettext(
                        entry["msgctxt"], entry["msgid"], entry["msgid_plural"], n
                    )
                else:
                    got = catalogue.ngettext(entry["msgid"], entry["msgid_plural"], n)
                assert got == expected, entry["msgid"]
        elif entry["msgctxt"] is not None:
            got = catalogue.pgettext(entry["msgctxt"], entry["msgid"])
            assert got == entry["msgstr"][0], entry["msgid"]
        else:
            assert catalogue.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]


COPY_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "staticfiles", "test-artifacts", "tests", "bench", "var", "__pycache__",
    ".hypothesis", ".ruff_cache", "*.sqlite3", "*.egg-info", "node_modules",
)  # fmt: skip


def test_makemessages_finds_nothing_untranslated(tmp_path):
    """Every string the code marks for translation has a German translation committed:
    makemessages is run on a copy of the project (the repository is not touched) and its
    result must have no empty and no fuzzy entry."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        if IN_CI:
            pytest.fail("CI=true: gettext tools (xgettext, msgmerge) are needed to check .po files")
        pytest.skip("gettext tools (xgettext, msgmerge) are not installed")
    copy = tmp_path / "project"
    shutil.copytree(BASE_DIR, copy, ignore=COPY_IGNORE)
    ignore = ["--ignore=.venv", "--ignore=staticfiles", "--ignore=test-artifacts"]
    ignore += ["--ignore=bench", "--ignore=tests"]
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--no-obsolete", *ignore],
        cwd=copy,
        env={
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_ENV_FILE": os.devnull,
            "DJANGO_DEBUG": "true",
            "PYTHONPATH": str(copy),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    entries = [e for e in po_entries(copy / PO_FILE.relative_to(BASE_DIR)) if e["msgid"]]
    assert len(entries) == len(_catalogue())
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == []
    assert [e["msgid"] for e in entries if not all(e["msgstr"])] == []
