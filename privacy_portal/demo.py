"""Demo content for `make run`: two published policy versions (in English and in German)
and a DPO login.

Loading is idempotent: what exists already is kept, so running the demo twice never
changes or duplicates data.
"""

import datetime
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone

from consent.declarations import declarations_seed
from consent.models import Cookie, CookieCategory

from .models import PolicyVersion
from .roles import roles_sync
from .services import policy_draft_create, policy_publish

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_DPO_USERNAME = "dpo"


@dataclass(frozen=True)
class DemoVersion:
    number: int
    filename: str
    effective_date: datetime.date
    summary: str
    language: str = "en"


DEMO_VERSIONS = [
    DemoVersion(
        1,
        "policy-v1.en.md",
        datetime.date(2025, 5, 25),
        "First version of our privacy policy on this portal.",
    ),
    DemoVersion(
        2,
        "policy-v2.en.md",
        datetime.date(2026, 1, 15),
        "Security: only staff who need your data can see it, and their access is recorded.\n"
        "Questions and Comments: we answer requests within one month.",
    ),
    # The same versions in German: numbers count per language (PolicyVersion.language).
    DemoVersion(
        1,
        "policy-v1.de.md",
        datetime.date(2025, 5, 25),
        "Erste Version unserer Datenschutzerklärung in diesem Portal.",
        "de",
    ),
    DemoVersion(
        2,
        "policy-v2.de.md",
        datetime.date(2026, 1, 15),
        "Sicherheit: Nur Mitarbeitende, die Ihre Daten benötigen, können sie sehen, und ihr "
        "Zugriff wird protokolliert.\n"
        "Fragen und Anmerkungen: Wir beantworten Anfragen innerhalb eines Monats.",
        "de",
    ),
]


@transaction.atomic
def demo_policy_load(*, languages: Iterable[str] | None = None) -> list[PolicyVersion]:
    """Publish the demo versions (in `languages`, by default all) that are not there yet;
    return those it created."""
    created = []
    for demo in DEMO_VERSIONS:
        if languages is not None and demo.language not in languages:
            continue
        if PolicyVersion.objects.filter(language=demo.language, number=demo.number).exists():
            continue
        draft = policy_draft_create(
            language=demo.language,
            body=(DEMO_DIR / demo.filename).read_text(encoding="utf-8"),
            summary_of_changes=demo.summary,
            effective_date=demo.effective_date,
        )
        created.append(policy_publish(version=draft))
    return created


DEMO_RECIPIENTS = [
    ("Example Group affiliates", "affiliate", "privacy@affiliates.example", "enquiries"),
    ("Certified partner network", "partner", "dpo@partners.example", "enquiries"),
]


@transaction.atomic
def demo_register_load() -> None:
    """Recipients in the register of processing, so the Art. 19 checklist shows something
    (the seed policy passes enquiries to affiliates and certified partners)."""
    from requests_app.models import ProcessingPurpose, Recipient

    for name, kind, contact, purpose in DEMO_RECIPIENTS:
        recipient, _created = Recipient.objects.get_or_create(
            name=name, defaults={"kind": kind, "contact": contact}
        )
        ProcessingPurpose.objects.get(slug=purpose).recipients.add(recipient)


def demo_requests_load() -> int:
    """A few requests in the queue and a contact message, once, for the DPO to work on."""
    from requests_app.models import ContactMessage, DataSubjectRequest
    from requests_app.services import contact_message_submit, request_submit, request_verify

    if DataSubjectRequest.objects.exists() or ContactMessage.objects.exists():
        return 0
    now = timezone.now()
    samples = [
        ("access", "Ada Example", "ada@example.org", "", 3),
        ("erasure", "Ben Example", "ben@example.org", "Please delete my account data.", 25),
        ("rectification", "Cleo Example", "cleo@example.org", "My name is spelt Cléo.", 40),
    ]
    for kind, name, email, details, days_ago in samples:
        request = request_submit(kind=kind, name=name, email=email, details=details, language="en")
        request_verify(request=request, now=now - datetime.timedelta(days=days_ago))
    contact_message_submit(
        name="Dora Example",
        email="dora@example.org",
        message="Which cookies does your site set before I choose?",
        language="en",
    )
    return len(samples)


def demo_declarations_load() -> int:
    """The cookie categories and cookies (a migration declares them too; this restores them
    where a database was flushed, as between transactional tests)."""
    return declarations_seed(CookieCategory, Cookie)


@transaction.atomic
def demo_dpo_ensure(*, password_file: Path) -> tuple[AbstractUser, str]:
    """The demo DPO login, in the DPO group; its password is kept in `password_file`
    (outside version control) so every run can print it without resetting it."""
    groups = roles_sync()
    password = password_file.read_text().strip() if password_file.exists() else ""
    User = get_user_model()
    user = User.objects.filter(username=DEMO_DPO_USERNAME).first()
    if user is None or not password or not user.check_password(password):
        password = secrets.token_urlsafe(12)
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(password + "\n")
        if user is None:
            user = User(username=DEMO_DPO_USERNAME, email=settings.DPO_EMAIL)
        user.set_password(password)
    user.is_staff = True
    user.save()
    user.groups.add(groups["DPO"])
    return user, password
