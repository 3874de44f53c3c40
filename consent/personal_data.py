"""Personal data held by the consent app: consent records linked to a person's address.

Consent records are proof of consent and stay in the (sealed) log. What ties them to a
person is the link between their browser's consent id and their e-mail address; erasure
deletes that link, after which the records identify nobody.
"""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from privacy_portal.hashing import email_hash
from requests_app.registry import DataSource, Erased, ErasureContext, Period, RetentionRule

from . import conf
from .models import (
    ConsentRecord,
    ConsentSubject,
    ParentalConsent,
    ParentalConsentEvent,
    PreferenceChange,
    Registration,
)
from .registration import (
    parental_consents_purge,
    registrations_expire_own_consent_missing,
    registrations_expire_unanswered,
    registrations_expire_unconfirmed,
)
from .sealing import consent_log_expired, consent_log_purge


def _consent_ids(email: str) -> list:
    return list(
        ConsentSubject.objects.filter(email__iexact=email).values_list("consent_id", flat=True)
    )


class ConsentRecordSource(DataSource):
    name = "Cookie consent records"
    record_type = "Cookie consent record"
    purpose = "cookie-consent"

    def records(self, email):
        records = ConsentRecord.objects.filter(consent_id__in=_consent_ids(email))
        for record in records.order_by("created_at", "id"):
            yield self.item(
                record.pk,
                {
                    "time": record.created_at,
                    "consent id": record.consent_id,
                    "choice": record.get_action_display(),
                    "categories": record.states,
                    "policy version": record.policy_version,
                    "banner text SHA-256": record.banner_sha256,
                    "IP prefix": record.ip_prefix,
                    "browser": record.user_agent,
                    "Global Privacy Control": record.gpc,
                },
            )

    def erase(self, context: ErasureContext) -> list[Erased]:
        reason = _(
            "Kept as proof of consent (Art. 7(1), 17(3)(b)); the link between your browser's "
            "consent id and your e-mail address is deleted, so it no longer identifies you."
        )
        records = ConsentRecord.objects.filter(consent_id__in=_consent_ids(context.email))
        return [
            self.held(context, pk) or self.erased(pk, "anonymised", reason)
            for pk in records.values_list("pk", flat=True)
        ]


class ConsentLinkSource(DataSource):
    name = "Consent ids linked to you"
    record_type = "Consent id link"
    purpose = "cookie-consent"

    def records(self, email):
        for link in ConsentSubject.objects.filter(email__iexact=email).order_by("linked_at"):
            yield self.item(
                link.pk,
                {"consent id": link.consent_id, "linked": link.linked_at, "given in": link.source},
            )

    def erase(self, context):
        outcomes = []
        for link in ConsentSubject.objects.filter(email__iexact=context.email):
            if held := self.held(context, link.pk):
                outcomes.append(held)
                continue
            link.delete()
            outcomes.append(self.erased(link.pk, "deleted"))
        return outcomes


class RegistrationSource(DataSource):
    name = "Registrations"
    record_type = "Registration"
    purpose = "registration"

    def _registrations(self, email: str):
        return Registration.objects.filter(Q(email__iexact=email) | Q(parent_email__iexact=email))

    def records(self, email):
        for registration in self._registrations(email).order_by("created_at"):
            yield self.item(
                registration.pk,
                {
                    "status": registration.get_status_display(),
                    "child's registration": registration.is_child,
                    "name": registration.name,
                    "e-mail address": registration.email,
                    "parent's e-mail address": registration.parent_email,
                    "country": registration.country,
                    "year of birth": registration.birth_year,
                    "interests": registration.interests,
                    "marketing choices": registration.marketing_choices,
                    "registered": registration.created_at,
                    "counts since": registration.confirmed_at,
                    "policy version": registration.policy_version,
                },
                purpose=registration.purpose,
                rectifiable=["name", "country"],
            )

    def erase(self, context):
        outcomes = []
        for registration in self._registrations(context.email).select_related("parental_consent"):
            if held := self.held(context, registration.pk):
                outcomes.append(held)
                continue
            consent = registration.parental_consent
            registration.delete()
            if consent is not None:
                ParentalConsentEvent.objects.create(
                    consent=consent, state=ParentalConsentEvent.State.ERASED
                )
            outcomes.append(self.erased(registration.pk, "deleted", purpose=registration.purpose))
        return outcomes

    def rectify(self, key, changes):
        registration = Registration.objects.get(pk=key)
        return self.rectify_fields(registration, changes, allowed={"name", "country"})


class ParentalConsentSource(DataSource):
    name = "Parental consents"
    record_type = "Parental consent"
    purpose = "parental-consent"

    def _consents(self, email: str):
        return ParentalConsent.objects.filter(parent_email_hash=email_hash(email))

    def records(self, email):
        for consent in self._consents(email).prefetch_related("events"):
            yield self.item(
                consent.pk,
                {
                    "reference": consent.reference,
                    "country": consent.country,
                    "method": consent.get_method_display(),
                    "asked": consent.requested_at,
                    "history": [
                        f"{event.at.isoformat()} {event.get_state_display()}"
                        for event in consent.events.all()
                    ],
                },
            )

    def erase(self, context):
        reason = _(
            "Kept as proof of how the parent answered (Art. 8, 7(1)); it holds no readable "
            "data about the parent or the child."
        )
        return [
            self.held(context, pk) or self.erased(pk, "retained", reason)
            for pk in self._consents(context.email).values_list("pk", flat=True)
        ]


class MarketingPreferenceSource(DataSource):
    name = "Marketing preferences"
    record_type = "Marketing preferences"
    purpose = "registration"

    def records(self, email):
        from .preferences import FIELDS, preference_for

        preference = preference_for(email)
        if preference is None or preference.erased_at:
            return
        history = preference.changes.order_by("at", "id")
        yield self.item(
            preference.pk,
            {
                **{
                    str(purpose.label): getattr(preference, field)
                    for purpose, field in FIELDS.items()
                },
                "history": [
                    f"{change.at.isoformat()} {change.purpose}: {change.old} → {change.new} "
                    f"({change.get_actor_display()})"
                    for change in history
                ],
            },
        )

    def erase(self, context):
        from .preferences import marketing_erase, preference_for

        preference = preference_for(context.email)
        if preference is None:
            return []
        if held := self.held(context, preference.pk):
            return [held]
        marketing_erase(email=context.email)
        reason = _(
            "Only a keyed hash of your address is kept, on the suppression list, so that you "
            "are never contacted again; nothing readable remains."
        )
        return [self.erased(preference.pk, "anonymised", reason)]


# Records first: they are found through the links, which the second source deletes.
# Registrations before parental consents: erasing a child's registration adds an event.
SOURCES = [
    ConsentRecordSource(),
    ConsentLinkSource(),
    RegistrationSource(),
    ParentalConsentSource(),
    MarketingPreferenceSource(),
]


# --- Retention ---------------------------------------------------------------------------------


class ConsentLogRetention(RetentionRule):
    """The consent log is evidence, sealed in batches: a batch goes only as a whole, once
    its newest record is past retention (consent.sealing.consent_log_purge)."""

    key = "consent-log"
    name = "Cookie consent records"
    purposes = ("cookie-consent",)
    sentence = _(
        "Your cookie choices: each is kept while it can apply (%(applies)s) and %(proof)s "
        "longer as proof, then deleted."
    )

    def period(self):
        return Period(
            months=12 * conf.get("CONSENT_PROOF_YEARS"), days=conf.get("CONSENT_MAX_AGE_DAYS")
        )

    def text(self):
        return str(self.sentence) % {
            "applies": Period(days=conf.get("CONSENT_MAX_AGE_DAYS")),
            "proof": Period(months=12 * conf.get("CONSENT_PROOF_YEARS")),
        }

    def purge(self, now, *, dry_run=False):
        if dry_run:
            return sum(consent_log_expired(now=now).values_list("record_count", flat=True))
        return consent_log_purge(now=now)


class RegistrationRetention(RetentionRule):
    key = "registrations"
    name = "Registrations"
    purposes = ("registration",)
    sentence = _("Your registration: kept until you ask us to delete it.")


class UnconfirmedSignUpRetention(RetentionRule):
    key = "unconfirmed-sign-ups"
    name = "Sign-ups never confirmed"
    purposes = ("registration",)
    days_setting = "REGISTRATION_CONFIRM_DAYS"
    sentence = _(
        "Sign-ups whose address was never confirmed: deleted %(period)s after they were made."
    )

    def purge(self, now, *, dry_run=False):
        return registrations_expire_unconfirmed(now=now, dry_run=dry_run)


class PreferenceHistoryRetention(RetentionRule):
    """Each change of a marketing choice is proof of who changed what; the change in force
    for each purpose is kept as long as the choice, older ones for the period."""

    key = "preference-history"
    name = "Marketing-choice history"
    purposes = ("registration",)
    default = Period(months=36)
    sentence = _(
        "Each change of your marketing choices: deleted %(period)s after it was made, except "
        "the latest for each purpose, which is the proof of the choice in force."
    )

    def purge(self, now, *, dry_run=False):
        later = PreferenceChange.objects.filter(
            preference=OuterRef("preference"),
            purpose=OuterRef("purpose"),
            at__gt=OuterRef("at"),
        )
        superseded = PreferenceChange.objects.filter(Exists(later), at__lt=self.cutoff(now))
        if dry_run:
            return superseded.count()
        ids = list(superseded.values_list("pk", flat=True))
        return PreferenceChange.objects.filter(pk__in=ids).delete()[0]


class UnansweredParentRetention(RetentionRule):
    key = "unanswered-parental-requests"
    name = "Children's data without a parent's answer"
    purposes = ("parental-consent",)
    days_setting = "PARENTAL_CONSENT_DAYS"
    sentence = _(
        "A child's data while we wait for a parent: deleted %(period)s after the parent was "
        "asked, unless they consent."
    )

    def purge(self, now, *, dry_run=False):
        return registrations_expire_unanswered(now=now, dry_run=dry_run)


class OwnConsentRetention(RetentionRule):
    key = "own-consent-missing"
    name = "Registrations of young people who came of age"
    purposes = ("parental-consent",)
    days_setting = "OWN_CONSENT_DAYS"
    sentence = _(
        "When a child comes of age, the parent's consent ends: the registration is deleted "
        "%(period)s later unless the young person confirms it."
    )

    def purge(self, now, *, dry_run=False):
        return registrations_expire_own_consent_missing(now=now, dry_run=dry_run)


class ParentalConsentRetention(RetentionRule):
    key = "parental-consent-records"
    name = "Records of parents' answers"
    purposes = ("parental-consent",)
    default = Period(months=36)
    sentence = _(
        "The record of a parent's answer (without the child's data): deleted %(period)s "
        "after the child's data was deleted."
    )

    def purge(self, now, *, dry_run=False):
        return parental_consents_purge(before=self.cutoff(now), dry_run=dry_run)


RETENTION = [
    ConsentLogRetention(),
    RegistrationRetention(),
    UnconfirmedSignUpRetention(),
    PreferenceHistoryRetention(),
    UnansweredParentRetention(),
    OwnConsentRetention(),
    ParentalConsentRetention(),
]
