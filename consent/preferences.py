"""Marketing preferences: the one place that decides whether someone may be contacted.

`marketing_allowed(email, purpose)` is the question every sender asks, and
`marketing_audience(purpose)` is the same rule as a query, for exports. Someone is
contactable for a purpose only if all of these hold: they have an active, confirmed adult
registration for that address; they have not been erased; and their choice for the purpose
is "yes" (or unset, when MARKETING_DEFAULT is opt_out). Every change of a choice is kept in
the history with who made it and why.
"""

import datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from privacy_portal.hashing import email_hash, email_normalise
from privacy_portal.links import LinkError, link_payload, link_token
from privacy_portal.outbox import email_queue

from .marketing import MarketingPurpose, marketing_default
from .models import ConsentSubject, MarketingPreference, PreferenceChange, Registration

Actor = PreferenceChange.Actor
FIELDS = {purpose: f"allow_{purpose.value}" for purpose in MarketingPurpose}
SHARING = [MarketingPurpose.AFFILIATES, MarketingPurpose.PARTNERS]
PREFERENCES_LINK = "preferences.centre"
UNSUBSCRIBE_LINK = "preferences.unsubscribe"


# --- Reads -----------------------------------------------------------------------------------


def preference_for(email: str) -> MarketingPreference | None:
    """The row of an address, erased or not (looked up by its keyed hash)."""
    return MarketingPreference.objects.filter(email_hash=email_hash(email)).first()


def marketing_audience(purpose: str) -> QuerySet[MarketingPreference]:
    """Everyone who may be contacted for `purpose` (the rule of this module, as a query)."""
    field = FIELDS[MarketingPurpose(purpose)]
    chosen = Q(**{field: True})
    if marketing_default():
        chosen |= Q(**{f"{field}__isnull": True})
    registered = Registration.objects.filter(
        email=OuterRef("email"), status=Registration.Status.ACTIVE, is_child=False
    )
    return (
        MarketingPreference.objects.filter(erased_at__isnull=True)
        .exclude(email="")
        .filter(chosen)
        .filter(Exists(registered))
    )


def marketing_allowed(email: str, purpose: str) -> bool:
    """May we contact `email` for `purpose`? The one question every sender asks."""
    return marketing_audience(purpose).filter(email_hash=email_hash(email)).exists()


def marketing_suppression() -> QuerySet[MarketingPreference]:
    """Addresses that said no to at least one purpose, erased people included (by hash)."""
    refused = Q()
    for field in FIELDS.values():
        refused |= Q(**{field: False})
    return MarketingPreference.objects.filter(refused | Q(erased_at__isnull=False))


def refused_purposes(preference: MarketingPreference) -> list[str]:
    return [p.value for p, field in FIELDS.items() if getattr(preference, field) is False]


# --- Links -------------------------------------------------------------------------------------


def preferences_url(preference: MarketingPreference) -> str:
    token = link_token(PREFERENCES_LINK, p=preference.pk, h=preference.email_hash[:16])
    return settings.PORTAL_BASE_URL + reverse("preferences:centre", args=[token])


def unsubscribe_url(preference: MarketingPreference, purpose: str) -> str:
    """A one-click unsubscribe link for one person and one purpose (RFC 8058); it does not
    expire, as mail clients may use it long after the mail arrived."""
    token = link_token(UNSUBSCRIBE_LINK, p=preference.pk, u=purpose, h=preference.email_hash[:16])
    return settings.PORTAL_BASE_URL + reverse("preferences:unsubscribe", args=[token])


def unsubscribe_headers(preference: MarketingPreference) -> dict[str, str]:
    """The List-Unsubscribe headers every mail to a registrant carries."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(preference, MarketingPurpose.EMAIL.value)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _preference_from(payload: dict) -> MarketingPreference:
    # A signed payload of another shape (a non-integer "p") is an invalid link, not an error.
    pk = payload.get("p")
    preference = MarketingPreference.objects.filter(pk=pk).first() if isinstance(pk, int) else None
    if preference is None or preference.erased_at or preference.email_hash[:16] != payload.get("h"):
        raise LinkError(_("This link is not valid."))
    return preference


def preference_from_centre_link(token: str) -> MarketingPreference:
    days = datetime.timedelta(days=settings.PREFERENCES_LINK_DAYS)
    return _preference_from(link_payload(PREFERENCES_LINK, token, max_age=days))


def preference_from_unsubscribe_link(token: str) -> tuple[MarketingPreference, str]:
    payload = link_payload(UNSUBSCRIBE_LINK, token, max_age=None)
    if payload.get("u") not in MarketingPurpose.values:
        raise LinkError(_("This link is not valid."))
    return _preference_from(payload), payload["u"]


def preferences_link_request(*, email: str) -> None:
    """Someone asked for a link to the preference centre of `email`: look it up and mail it
    in a task, after commit.

    The request does the same work whatever the address (no look-up, no mail rendered): a
    page that answered a known address later than an unknown one would tell anyone which
    addresses we know. Only the keyed hash goes to the task queue, so the queue's table
    never holds the address of someone we do not know.
    """
    address_hash = email_hash(email)
    transaction.on_commit(lambda: preferences_link_send.enqueue(address_hash))


@task
def preferences_link_send(address_hash: str) -> None:
    """Mail the preference-centre link to the address with this keyed hash, if we know it
    (and it was not erased). It returns nothing: the task table, which keeps results for a
    week, must not say which addresses are known."""
    preference = (
        MarketingPreference.objects.filter(email_hash=address_hash, erased_at__isnull=True)
        .exclude(email="")
        .first()
    )
    if preference is None:
        return
    with transaction.atomic():
        email_queue(
            to=preference.email,
            template="consent/email/preferences_link",
            context={"preference": preference, "link": preferences_url(preference)},
            kind="preferences_link",
            purpose="registration",
            language=preference.language,
            related=f"consent.marketingpreference:{preference.pk}",
        )


# --- Writes ------------------------------------------------------------------------------------


def preference_ensure(*, email: str) -> MarketingPreference:
    """The row of an address, created (no name, no choice made) if there is none yet.

    It never changes an existing row: an unconfirmed sign-up calls it (so that its
    confirmation mail can carry a one-click unsubscribe), and whoever typed the address may
    not own it. The name and language come with a confirmed registration
    (`preference_identify`). One statement that inserts or ignores, then one read, whether
    or not the address is known: the sign-up takes the same time either way.
    """
    email = email_normalise(email)
    address_hash = email_hash(email)
    new = MarketingPreference(email=email, email_hash=address_hash, language=settings.LANGUAGE_CODE)
    MarketingPreference.objects.bulk_create([new], ignore_conflicts=True)
    return MarketingPreference.objects.get(email_hash=address_hash)


def preference_identify(
    *, preference: MarketingPreference, name: str, language: str
) -> MarketingPreference:
    """Name the person and the language they write in. Only for someone whose address is
    confirmed (a confirmed registration): an unconfirmed form never renames anyone."""
    if preference.erased_at or (preference.name, preference.language) == (name, language):
        return preference
    preference.name, preference.language = name, language
    preference.save(update_fields=["name", "language", "updated_at"])
    return preference


def preference_discard_unconfirmed(*, email: str) -> bool:
    """A sign-up that was never confirmed leaves no marketing record behind: the address's
    row goes if nothing was ever decided on it (no history), it was not erased, and no
    registration of that address remains. Returns whether a row was deleted."""
    from privacy_portal.outbox import emails_forget

    preference = (
        MarketingPreference.objects.filter(email_hash=email_hash(email), erased_at=None)
        .exclude(Exists(PreferenceChange.objects.filter(preference=OuterRef("pk"))))
        .first()
    )
    if preference is None or Registration.objects.filter(email__iexact=email).exists():
        return False
    emails_forget(related=f"consent.marketingpreference:{preference.pk}")
    preference.delete()
    return True


@transaction.atomic
def marketing_preferences_set(
    *,
    preference: MarketingPreference,
    changes: dict[str, bool | None],
    actor: str,
    staff_user: AbstractBaseUser | None = None,
    reason: str = "",
) -> list[PreferenceChange]:
    """Change some choices; each actual change is written to the history."""
    if actor == Actor.STAFF and not reason.strip():
        raise ValidationError(_("Give a reason for changing someone's marketing preferences."))
    preference = MarketingPreference.objects.select_for_update().get(pk=preference.pk)
    if preference.erased_at and any(value is not False for value in changes.values()):
        raise ValidationError(_("This person was erased: they stay on the suppression list."))
    history = []
    for purpose, value in changes.items():
        field = FIELDS[MarketingPurpose(purpose)]
        old = getattr(preference, field)
        if old == value:
            continue
        setattr(preference, field, value)
        history.append(
            PreferenceChange(
                preference=preference,
                purpose=purpose,
                old=old,
                new=value,
                actor=actor,
                staff_user=staff_user,
                reason=reason.strip(),
            )
        )
    if history:
        preference.save()
        PreferenceChange.objects.bulk_create(history)
    return history


def marketing_registration_apply(*, registration: Registration) -> MarketingPreference:
    """A confirmed registration's name, language and choices become the person's. A ticked
    box is a yes; an unticked one is a no only where boxes start ticked (opt-out)."""
    preference = preference_identify(
        preference=preference_ensure(email=registration.email),
        name=registration.name,
        language=registration.language,
    )
    if preference.erased_at:
        # Someone erased stays on the suppression list, whatever a new sign-up ticks.
        return preference
    changes = {}
    for purpose, granted in registration.marketing_choices.items():
        if purpose in MarketingPurpose.values and (granted or marketing_default()):
            changes[purpose] = bool(granted)
    marketing_preferences_set(preference=preference, changes=changes, actor=Actor.REGISTRATION)
    return preference


def marketing_object(*, email: str, reference: str) -> list[PreferenceChange]:
    """An objection to marketing (Art. 21(2)): every purpose off."""
    preference = preference_ensure(email=email)
    if preference.erased_at:
        return []
    return marketing_preferences_set(
        preference=preference,
        changes=dict.fromkeys(MarketingPurpose.values, False),
        actor=Actor.OBJECTION,
        reason=reference,
    )


def marketing_gpc_apply(*, consent_id) -> int:
    """A Global Privacy Control signal from someone we can identify (their browser's
    consent id is linked to their address): no sharing with affiliates or partners."""
    count = 0
    emails = ConsentSubject.objects.filter(consent_id=consent_id).values_list("email", flat=True)
    for email in emails:
        preference = preference_for(email)
        if preference is None or preference.erased_at:
            continue
        count += len(
            marketing_preferences_set(
                preference=preference,
                changes={purpose.value: False for purpose in SHARING},
                actor=Actor.GPC,
            )
        )
    return count


@transaction.atomic
def marketing_erase(*, email: str) -> MarketingPreference | None:
    """Erasure: keep only the keyed hash, with every purpose refused, so the person is
    never contacted again and nothing readable remains."""
    preference = preference_for(email)
    if preference is None:
        return None
    marketing_preferences_set(
        preference=preference,
        changes=dict.fromkeys(MarketingPurpose.values, False),
        actor=Actor.ERASURE,
    )
    MarketingPreference.objects.filter(pk=preference.pk).update(
        email="", name="", erased_at=timezone.now()
    )
    # Staff reasons may name the person; the history keeps only what changed and when.
    PreferenceChange.objects.filter(preference=preference).exclude(reason="").update(
        reason="(erased)"
    )
    preference.refresh_from_db()
    return preference
