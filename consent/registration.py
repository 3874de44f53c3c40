"""Registration and the parental-consent flow (GDPR Art. 8, COPPA): the services.

An adult's registration counts once the address is confirmed. A child's (below the age of
digital consent of their country) keeps only the first name, the parent's address, the
country and the birth year, and waits for a parent: consent activates it ("e-mail plus": a
confirmation mail follows), a refusal or silence deletes it, a revocation deletes it later.
When the child comes of age, the young person is asked for their own consent and the
parent's ends. Each step is an event of the ParentalConsent record, which never holds the
child's data.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.tasks import default_task_backend, task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from privacy_portal.hashing import email_hash, email_normalise
from privacy_portal.links import LinkError, link_payload, link_token
from privacy_portal.outbox import email_queue, emails_forget

from .ages import coming_of_age_date, consent_age, needs_parental_consent
from .models import ParentalConsent, ParentalConsentEvent, Registration
from .policy import policy_info
from .preferences import (
    marketing_registration_apply,
    preference_discard_unconfirmed,
    preference_ensure,
)
from .services import consent_subject_link

State = ParentalConsentEvent.State
Status = Registration.Status
REGISTRATION_PURPOSE = "registration"
PARENTAL_PURPOSE = "parental-consent"
SCREEN_KEY = "registration_age_screen"

# Salts of the signed links (one per kind of link: one cannot open another).
CONFIRM = "registration.confirm"
PARENT = "registration.parent"
MANAGE = "registration.manage"
OWN_CONSENT = "registration.own-consent"


def _days(setting: str) -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, setting))


MAX_AGES = {
    CONFIRM: lambda: _days("REGISTRATION_CONFIRM_DAYS"),
    PARENT: lambda: _days("PARENTAL_CONSENT_DAYS"),
    MANAGE: lambda: None,
    OWN_CONSENT: lambda: _days("OWN_CONSENT_DAYS"),
}


def registration_link(kind: str, registration: Registration) -> str:
    # The parental-consent reference ties a parent's link to exactly one child.
    reference = (
        str(registration.parental_consent.reference) if registration.parental_consent_id else ""
    )
    token = link_token(kind, g=registration.pk, c=reference)
    names = {
        CONFIRM: "registration:confirm",
        PARENT: "registration:parental-consent",
        MANAGE: "registration:parental-manage",
        OWN_CONSENT: "registration:own-consent",
    }
    return settings.PORTAL_BASE_URL + reverse(names[kind], args=[token])


def registration_from_link(kind: str, token: str) -> Registration:
    """The registration a link is for; LinkError if the link is bad, old or its
    registration is gone (a declined or expired child's data is deleted)."""
    payload = link_payload(kind, token, max_age=MAX_AGES[kind]())
    registration = None
    if isinstance(payload.get("g"), int):
        registration = (
            Registration.objects.select_related("parental_consent").filter(pk=payload["g"]).first()
        )
    if registration is None:  # answered and deleted, expired, revoked, or erased
        raise LinkError(_("This link has expired."), expired=True)
    reference = (
        str(registration.parental_consent.reference) if registration.parental_consent_id else ""
    )
    if payload.get("c", "") != reference:  # a link made for another child
        raise LinkError(_("This link is not valid."))
    return registration


def _policy(language: str) -> tuple[int | None, str]:
    policy = policy_info(language)
    return (policy.number, policy.language) if policy else (None, "")


def _event(consent: ParentalConsent, state: str, at: datetime.datetime | None = None) -> None:
    ParentalConsentEvent.objects.create(consent=consent, state=state, at=at or timezone.now())


def _related(registration: Registration) -> str:
    return f"consent.registration:{registration.pk}"


def _mail(
    registration: Registration,
    template: str,
    *,
    to: str = "",
    **context,
) -> None:
    email_queue(
        to=to or registration.contact_email,
        template=f"consent/email/{template}",
        context={"registration": registration, **context},
        kind=f"registration_{template}",
        purpose=PARENTAL_PURPOSE if registration.is_child else REGISTRATION_PURPOSE,
        language=registration.language,
        related=_related(registration),
    )


# --- The age screen ------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    child: bool
    first_name: str = ""
    country: str = ""
    birth_year: int | None = None


def age_screen(
    *, session: SessionBase, name: str, country: str, birth_date: datetime.date,
    today: datetime.date | None = None,
) -> Screen:  # fmt: skip
    """Decide adult or child. A browser session that was once screened as a child stays a
    child's: entering an older date again does not let it through."""
    today = today or timezone.localdate()
    remembered = session.get(SCREEN_KEY)
    if remembered:
        screen = Screen(
            child=True,
            first_name=name.split()[0],
            country=remembered["country"],
            birth_year=remembered["birth_year"],
        )
    elif not needs_parental_consent(birth_date, country, today):
        return Screen(child=False)
    else:
        screen = Screen(
            child=True, first_name=name.split()[0], country=country, birth_year=birth_date.year
        )
    # Only what the parental flow needs; the rest the child typed is not kept anywhere.
    session[SCREEN_KEY] = {
        "first_name": screen.first_name,
        "country": screen.country,
        "birth_year": screen.birth_year,
    }
    return screen


def age_screen_done(*, session: SessionBase) -> None:
    """Once the parent has been asked, the browser session keeps only that it belongs to a
    child (the country and birth year keep it on the parental path); the first name is in
    the pending registration, which every ending deletes, and must not outlive it here."""
    remembered = session.get(SCREEN_KEY)
    if remembered:
        session[SCREEN_KEY] = {
            "country": remembered["country"],
            "birth_year": remembered["birth_year"],
        }


# --- Adults --------------------------------------------------------------------------------


@transaction.atomic
def registration_submit(
    *,
    name: str,
    email: str,
    country: str,
    interests: list[str],
    marketing_choices: dict[str, bool],
    language: str,
) -> Registration:
    """An adult's registration: stored, and counted once the address is confirmed."""
    number, policy_language = _policy(language)
    registration = Registration(
        status=Status.AWAITING_EMAIL,
        name=name.strip(),
        email=email_normalise(email),
        country=country,
        interests=sorted(interests),
        marketing_choices=marketing_choices,
        language=language,
        purpose=REGISTRATION_PURPOSE,
        policy_version=number,
        policy_language=policy_language,
    )
    registration.full_clean()
    registration.save()
    _confirmation_ask(registration)
    return registration


def _confirmation_ask(registration: Registration) -> None:
    """Mail the link that confirms a registrant's own address. A registrant has marketing
    preferences from the start, so every mail to them, this one included, carries a
    one-click unsubscribe (privacy_portal.outbox adds it). The address is not confirmed
    yet: the record is created if there is none, and nothing of an existing one changes
    (the registration's name, language and choices apply at confirmation)."""
    preference_ensure(email=registration.email)
    _mail(
        registration,
        "registration_confirm",
        confirm_url=registration_link(CONFIRM, registration),
        days=settings.REGISTRATION_CONFIRM_DAYS,
    )


@transaction.atomic
def registration_confirm(
    *, registration: Registration, http_request: HttpRequest | None = None
) -> Registration:
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status == Status.AWAITING_EMAIL:
        registration.status = Status.ACTIVE
        registration.confirmed_at = timezone.now()
        registration.save(update_fields=["status", "confirmed_at"])
        # Only now, with the address confirmed, do the registration's choices count.
        marketing_registration_apply(registration=registration)
        if http_request is not None:
            consent_subject_link(
                request=http_request, email=registration.email, source="registration"
            )
    return registration


# --- Children ------------------------------------------------------------------------------


@transaction.atomic
def parental_consent_request(*, screen: Screen, parent_email: str, language: str) -> Registration:
    """Store the pending child registration (first name, parent's address, country, birth
    year: nothing else) and ask the parent through a signed, expiring link."""
    parent_email = email_normalise(parent_email)
    consent = ParentalConsent(country=screen.country, parent_email_hash=email_hash(parent_email))
    consent.full_clean()
    consent.save()
    _event(consent, State.REQUESTED)
    number, policy_language = _policy(language)
    registration = Registration(
        status=Status.AWAITING_PARENT,
        is_child=True,
        name=screen.first_name,
        parent_email=parent_email,
        country=screen.country,
        birth_year=screen.birth_year,
        language=language,
        purpose=PARENTAL_PURPOSE,
        policy_version=number,
        policy_language=policy_language,
        parental_consent=consent,
    )
    registration.full_clean()
    registration.save()
    deadline = timezone.now() + _days("PARENTAL_CONSENT_DAYS")
    _mail(
        registration,
        "parent_request",
        consent_url=registration_link(PARENT, registration),
        deadline=deadline,
    )
    if default_task_backend.supports_defer:
        # The worker deletes the child's data the moment the deadline passes; the daily
        # purge command does the same where tasks cannot be scheduled.
        transaction.on_commit(
            lambda: registration_expire.using(run_after=deadline).enqueue(registration.pk)
        )
    return registration


def _delete_child(registration: Registration, state: str, at=None) -> None:
    consent = registration.parental_consent
    _delete(registration)
    _event(consent, state, at)


def _delete(registration: Registration) -> None:
    """A registration's ending: it goes with its mails, and with the marketing record an
    unconfirmed address of its own made (a young person's, a sign-up's)."""
    emails_forget(related=_related(registration))
    registration.delete()
    if registration.email and registration.confirmed_at is None:
        preference_discard_unconfirmed(email=registration.email)


@transaction.atomic
def parental_consent_decide(
    *, registration: Registration, consents: bool, is_guardian: bool
) -> Registration | None:
    """The parent's answer. Consent activates the registration and mails a confirmation
    with a management link; a refusal deletes the child's data at once."""
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status != Status.AWAITING_PARENT:
        raise ValidationError(_("This registration is no longer waiting for an answer."))
    if not consents:
        _delete_child(registration, State.DECLINED)
        return None
    if not is_guardian:
        raise ValidationError(
            _("Please confirm that you are the parent or legal guardian of this child.")
        )
    registration.status = Status.ACTIVE
    registration.confirmed_at = timezone.now()
    registration.save(update_fields=["status", "confirmed_at"])
    _event(registration.parental_consent, State.CONSENTED)
    _mail(
        registration,
        "parent_confirmation",
        manage_url=registration_link(MANAGE, registration),
    )
    _event(registration.parental_consent, State.CONFIRMATION_SENT)
    return registration


@transaction.atomic
def parental_consent_revoke(*, registration: Registration) -> None:
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if not (registration.is_child and registration.status == Status.ACTIVE):
        raise ValidationError(_("This registration no longer depends on a parent's consent."))
    _delete_child(registration, State.REVOKED)


@task
def registration_expire(registration_id: int) -> bool:
    """Delete one pending child registration if its parent has not answered in time."""
    cutoff = timezone.now() - _days("PARENTAL_CONSENT_DAYS")
    registration = Registration.objects.filter(
        pk=registration_id, status=Status.AWAITING_PARENT, awaiting_since__lte=cutoff
    ).first()
    if registration is None:
        return False
    with transaction.atomic():
        _delete_child(registration, State.EXPIRED)
    return True


def _waited(status: str, days_setting: str, now: datetime.datetime):
    return Registration.objects.filter(
        status=status, awaiting_since__lte=now - _days(days_setting)
    ).select_related("parental_consent")


def _each_deleted(registrations, delete, *, dry_run: bool) -> int:
    if dry_run:
        return registrations.count()
    count = 0
    with transaction.atomic():
        for registration in registrations:
            delete(registration)
            count += 1
    return count


def registrations_expire_unanswered(*, now: datetime.datetime, dry_run: bool = False) -> int:
    """A child's data whose parent did not answer within PARENTAL_CONSENT_DAYS: deleted,
    and recorded as expired (without the data)."""
    return _each_deleted(
        _waited(Status.AWAITING_PARENT, "PARENTAL_CONSENT_DAYS", now),
        lambda registration: _delete_child(registration, State.EXPIRED, now),
        dry_run=dry_run,
    )


def registrations_expire_unconfirmed(*, now: datetime.datetime, dry_run: bool = False) -> int:
    """Sign-ups whose address was not confirmed within REGISTRATION_CONFIRM_DAYS (a young
    person's own address included): deleted with their mails and marketing record."""

    def delete(registration: Registration) -> None:
        if registration.parental_consent_id:  # a young person who never confirmed
            _delete_child(registration, State.OWN_CONSENT_MISSING, now)
        else:
            _delete(registration)

    return _each_deleted(
        _waited(Status.AWAITING_EMAIL, "REGISTRATION_CONFIRM_DAYS", now), delete, dry_run=dry_run
    )


def registrations_expire_own_consent_missing(
    *, now: datetime.datetime, dry_run: bool = False
) -> int:
    """Young people who came of age and did not give their own consent within
    OWN_CONSENT_DAYS: their registration is deleted."""
    return _each_deleted(
        _waited(Status.AWAITING_OWN_CONSENT, "OWN_CONSENT_DAYS", now),
        lambda registration: _delete_child(registration, State.OWN_CONSENT_MISSING, now),
        dry_run=dry_run,
    )


def parental_consents_purge(*, before: datetime.datetime, dry_run: bool = False) -> int:
    """The records of parents' answers whose child's data is gone (declined, expired,
    revoked, erased) and whose last event is older than `before`: deleted with their
    events. A record whose registration still exists is kept, whatever its age."""
    ended = (
        ParentalConsent.objects.filter(registration__isnull=True)
        .annotate(last=models.Max("events__at"))
        .filter(last__lt=before)
    )
    ids = list(ended.values_list("pk", flat=True))
    if dry_run or not ids:
        return len(ids)
    with transaction.atomic():
        ParentalConsentEvent.objects.filter(consent_id__in=ids).delete()
        ParentalConsent.objects.filter(pk__in=ids).delete()
    return len(ids)


@transaction.atomic
def registrations_coming_of_age(*, today: datetime.date | None = None) -> int:
    """Children who reached the age of digital consent: the parent's consent ends, and the
    young person is asked to confirm their own."""
    today = today or timezone.localdate()
    count = 0
    # Lock the registrations only: the parental-consent join is nullable (PostgreSQL will
    # not lock the nullable side of an outer join).
    children = Registration.objects.select_for_update(of=("self",)).filter(
        is_child=True, status=Status.ACTIVE
    )
    for registration in children.select_related("parental_consent"):
        if coming_of_age_date(registration.birth_year, registration.country) > today:
            continue
        registration.status = Status.AWAITING_OWN_CONSENT
        registration.came_of_age_at = registration.awaiting_since = timezone.now()
        registration.save(update_fields=["status", "came_of_age_at", "awaiting_since"])
        _event(registration.parental_consent, State.CAME_OF_AGE)
        _mail(
            registration,
            "coming_of_age",
            own_consent_url=registration_link(OWN_CONSENT, registration),
            age=consent_age(registration.country),
            days=settings.OWN_CONSENT_DAYS,
        )
        count += 1
    return count


@transaction.atomic
def registration_own_consent(*, registration: Registration, email: str) -> Registration:
    """The young person gives their own consent and their own address: the registration
    is theirs now (the parent's address is removed) and counts once that address is
    confirmed, like any adult's."""
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status != Status.AWAITING_OWN_CONSENT:
        raise ValidationError(_("This registration is not waiting for your consent."))
    # The parent's part has ended: nothing of theirs stays readable, mails included.
    emails_forget(related=_related(registration), to=registration.parent_email)
    registration.status = Status.AWAITING_EMAIL
    registration.awaiting_since = timezone.now()
    registration.is_child = False
    registration.email = email_normalise(email)
    registration.parent_email = ""
    registration.birth_year = None
    registration.confirmed_at = None
    registration.purpose = REGISTRATION_PURPOSE
    registration.full_clean()
    registration.save()
    _event(registration.parental_consent, State.OWN_CONSENT)
    _confirmation_ask(registration)
    return registration
