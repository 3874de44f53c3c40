"""Cookie declarations and the consent log.

Declarations (categories and their cookies) are edited by the DPO in the admin. The log is
evidence: records are appended and never changed or deleted through the app; seals chain
their hashes so any later change in the database is detectable (see sealing.py).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete consent evidence."""


class CookieCategory(models.Model):
    slug = models.SlugField(
        _("identifier"),
        max_length=32,
        unique=True,
        help_text=_(
            "Used in the consent cookie and in data-category attributes; "
            "'necessary', 'preferences', 'analytics' and 'marketing' have a fixed meaning."
        ),
    )
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(
        _("description"), help_text=_("Shown to visitors beside the category's switch.")
    )
    # German visitors read these; empty, they are shown the English text (consent/translated.py).
    name_de = models.CharField(_("name (German)"), max_length=80, blank=True)
    description_de = models.TextField(
        _("description (German)"),
        blank=True,
        help_text=_("Shown to visitors who read the site in German; empty: the English text."),
    )
    is_necessary = models.BooleanField(
        _("strictly necessary"),
        default=False,
        help_text=_("Always on; visitors cannot switch it off (no consent is needed)."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("cookie category")
        verbose_name_plural = _("cookie categories")
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.name


class Cookie(models.Model):
    name = models.CharField(
        _("name or pattern"),
        max_length=128,
        help_text=_("The cookie's name; use * as a wildcard, e.g. _ga_* for _ga_<container-id>."),
    )
    provider = models.CharField(
        _("provider"), max_length=128, help_text=_("Who sets and reads the cookie.")
    )
    purpose = models.TextField(_("purpose"), help_text=_("Why the cookie is used."))
    duration = models.CharField(
        _("duration"), max_length=64, help_text=_("How long it stays, e.g. '2 years', 'session'.")
    )
    provider_de = models.CharField(_("provider (German)"), max_length=128, blank=True)
    purpose_de = models.TextField(
        _("purpose (German)"),
        blank=True,
        help_text=_("Shown to visitors who read the site in German; empty: the English text."),
    )
    duration_de = models.CharField(_("duration (German)"), max_length=64, blank=True)
    category = models.ForeignKey(
        CookieCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="cookies",
    )

    class Meta:
        verbose_name = _("cookie")
        verbose_name_plural = _("cookies")
        ordering = ["category__order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "provider"], name="cookie_unique_per_provider")
        ]

    def __str__(self) -> str:
        return self.name


class BannerText(models.Model):
    """The exact text of a banner as shown, kept once per SHA-256, so a log row's hash can
    always be matched to the words the visitor read."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, primary_key=True)
    language = models.CharField(_("language"), max_length=8)
    text = models.TextField(_("text"))
    first_shown_at = models.DateTimeField(_("first recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("banner text")
        verbose_name_plural = _("banner texts")

    def __str__(self) -> str:
        return f"{self.language} {self.sha256[:12]}"


class ConsentRecordQuerySet(models.QuerySet):
    def for_consent_id(self, consent_id: uuid.UUID) -> "ConsentRecordQuerySet":
        return self.filter(consent_id=consent_id)

    def unsealed(self) -> "ConsentRecordQuerySet":
        return self.exclude(
            models.Exists(ConsentSealEntry.objects.filter(record_id=models.OuterRef("pk")))
        )

    def update(self, **kwargs):
        raise AppendOnlyError("The consent log is append-only.")

    def delete(self):
        raise AppendOnlyError("The consent log is append-only.")

    delete.queryset_only = True


class ConsentRecord(models.Model):
    """One decision of one visitor: proof of consent (or of its refusal or withdrawal)."""

    class Action(models.TextChoices):
        ACCEPT_ALL = "accept_all", _("Accept all")
        REJECT_ALL = "reject_all", _("Reject all")
        CUSTOM = "custom", _("Custom choice")
        WITHDRAW = "withdraw", _("Withdrawal")
        GPC = "gpc", _("Global Privacy Control signal")

    receipt_id = models.UUIDField(_("receipt id"), default=uuid.uuid4, unique=True, editable=False)
    # Looked up through the consent_id_latest index (consent_id first): a second index on
    # the column alone would cost every decision's INSERT a write and serve no query.
    consent_id = models.UUIDField(
        _("consent id"),
        help_text=_("Identifies one browser's decisions; stored in its consent cookie."),
    )
    created_at = models.DateTimeField(_("time"), db_index=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    states = models.JSONField(
        _("category states"), help_text=_("Each decided category: true (granted) or false.")
    )
    config_revision = models.CharField(
        _("cookie configuration revision"),
        max_length=16,
        help_text=_("Fingerprint of the declared categories and cookies at the time."),
    )
    policy_version = models.PositiveIntegerField(_("policy version"), null=True, blank=True)
    policy_language = models.CharField(_("policy language"), max_length=8, blank=True)
    banner_sha256 = models.CharField(
        _("banner SHA-256"), max_length=64, help_text=_("Hash of the banner text as shown.")
    )
    language = models.CharField(_("language shown"), max_length=8)
    ip_prefix = models.CharField(
        _("IP prefix"), max_length=64, blank=True, help_text=_("IPv4 /24 or IPv6 /48 only.")
    )
    user_agent = models.CharField(_("user agent"), max_length=256, blank=True)
    gpc = models.BooleanField(_("Global Privacy Control"), default=False)

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["consent_id", "-created_at"], name="consent_id_latest")]

    def __str__(self) -> str:
        return f"{self.consent_id} {self.get_action_display()} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Consent records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Consent records cannot be deleted.")


class ConsentSeal(models.Model):
    """A batch of consent records whose hashes are fixed and chained to the previous seal."""

    sequence = models.PositiveIntegerField(
        _("sequence"), unique=True, help_text=_("1 for the first seal, then one more each time.")
    )
    created_at = models.DateTimeField(_("sealed at"), auto_now_add=True)
    cutoff = models.DateTimeField(
        _("cut-off"), help_text=_("Every record up to this time is in this seal or an earlier one.")
    )
    previous = models.OneToOneField(
        "self",
        verbose_name=_("previous seal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next",
    )
    record_count = models.PositiveIntegerField(_("records"))
    entries_sha256 = models.CharField(_("SHA-256 of the entries"), max_length=64)
    chain_sha256 = models.CharField(
        _("chain SHA-256"),
        max_length=64,
        unique=True,
        help_text=_("SHA-256 of the previous seal's chain hash and this seal's entries."),
    )
    purged_at = models.DateTimeField(
        _("purged at"),
        null=True,
        blank=True,
        help_text=_(
            "When its records were deleted, past retention; the seal keeps its hashes, so the "
            "chain still verifies."
        ),
    )

    class Meta:
        verbose_name = _("consent log seal")
        verbose_name_plural = _("consent log seals")
        ordering = ["-sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.chain_sha256[:12]}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Seals cannot be changed.")
        super().save(*args, **kwargs)


class ConsentSealEntry(models.Model):
    """A record's hash as sealed. The record id is a plain number, not a foreign key, so a
    record removed from the log leaves its entry behind to be reported."""

    seal = models.ForeignKey(
        ConsentSeal, verbose_name=_("seal"), on_delete=models.PROTECT, related_name="entries"
    )
    record_id = models.BigIntegerField(_("record id"), unique=True)
    record_sha256 = models.CharField(_("record SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("sealed record")
        verbose_name_plural = _("sealed records")
        ordering = ["record_id"]

    def __str__(self) -> str:
        return f"{self.record_id} {self.record_sha256[:12]}"


class ConsentSubject(models.Model):
    """Links a browser's consent id to an e-mail address its visitor gave in a form.

    It is what makes consent records findable for an access request; deleting the link on
    erasure leaves the records (still needed as proof of consent) with nothing that points
    to the person.
    """

    consent_id = models.UUIDField(_("consent id"), db_index=True)
    email = models.EmailField(_("e-mail address"), db_index=True)
    source = models.CharField(_("given in"), max_length=64)
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("consent id of a person")
        verbose_name_plural = _("consent ids of people")
        # Found by address case-insensitively: PostgreSQL compares UPPER(email).
        indexes = [models.Index(Upper("email"), name="consent_subject_email_upper")]
        constraints = [
            models.UniqueConstraint(fields=["consent_id", "email"], name="consent_subject_unique")
        ]

    def __str__(self) -> str:
        return f"{self.consent_id} ↔ {self.email}"


class Registration(models.Model):
    """A voluntary sign-up for product news and offers (the portal's data-collection point).

    An adult's registration counts once the address is confirmed. A child's waits for a
    parent: until then it holds only the child's first name, the parent's address, the
    country and the birth year; everything else the child typed was never stored.
    """

    class Status(models.TextChoices):
        AWAITING_EMAIL = "awaiting_email", _("Waiting for e-mail confirmation")
        AWAITING_PARENT = "awaiting_parent", _("Waiting for a parent's consent")
        ACTIVE = "active", _("Active")
        AWAITING_OWN_CONSENT = "awaiting_own_consent", _("Came of age: waiting for own consent")

    status = models.CharField(_("status"), max_length=24, choices=Status.choices)
    is_child = models.BooleanField(_("child"), default=False)
    name = models.CharField(
        _("name"), max_length=128, help_text=_("For a child: the first name only.")
    )
    email = models.EmailField(
        _("e-mail address"),
        blank=True,
        db_index=True,
        help_text=_("The registrant's address; empty for a child."),
    )
    parent_email = models.EmailField(
        _("parent's e-mail address"),
        blank=True,
        db_index=True,
        help_text=_("For a child: where the parent is asked, and the contact address."),
    )
    country = models.CharField(_("country"), max_length=2)
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"), null=True, blank=True, help_text=_("Kept for children only.")
    )
    interests = models.JSONField(_("interests"), default=list, blank=True)
    marketing_choices = models.JSONField(
        _("marketing choices"), default=dict, blank=True, help_text=_("Purpose: granted.")
    )
    language = models.CharField(_("language"), max_length=8, default="en")
    purpose = models.CharField(_("purpose"), max_length=64, default="registration")
    policy_version = models.PositiveIntegerField(_("policy version"), null=True, blank=True)
    policy_language = models.CharField(_("policy language"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True, db_index=True)
    confirmed_at = models.DateTimeField(_("counts since"), null=True, blank=True)
    came_of_age_at = models.DateTimeField(_("came of age at"), null=True, blank=True)
    awaiting_since = models.DateTimeField(
        _("waiting since"),
        default=timezone.now,
        db_index=True,
        help_text=_("When the current wait (for an e-mail, a parent, own consent) began."),
    )
    parental_consent = models.OneToOneField(
        "ParentalConsent",
        verbose_name=_("parental consent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registration",
    )

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["-created_at"]
        # Found by address case-insensitively (access and erasure): UPPER(...) on PostgreSQL.
        indexes = [
            models.Index(Upper("email"), name="registration_email_upper"),
            models.Index(Upper("parent_email"), name="registration_parent_upper"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_child=False) | models.Q(birth_year__isnull=False),
                name="registration_child_has_birth_year",
            ),
            models.CheckConstraint(
                condition=models.Q(is_child=False) | models.Q(email=""),
                name="registration_child_keeps_no_address_of_its_own",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"

    @property
    def contact_email(self) -> str:
        return self.parent_email if self.is_child else self.email


class ParentalConsentQuerySet(models.QuerySet):
    def with_state(self) -> "ParentalConsentQuerySet":
        """Annotate `current_state`: the state of the latest event."""
        latest = ParentalConsentEvent.objects.filter(consent=models.OuterRef("pk")).order_by(
            "-at", "-id"
        )
        return self.annotate(current_state=models.Subquery(latest.values("state")[:1]))

    def in_state(self, state: str) -> "ParentalConsentQuerySet":
        return self.with_state().filter(current_state=state)

    def pending(self) -> "ParentalConsentQuerySet":
        """Parents asked who have not answered yet."""
        return self.in_state(ParentalConsentEvent.State.REQUESTED)


class ParentalConsent(models.Model):
    """Evidence of a parent's consent for one child: never the child's data, only what
    was asked, how, and what happened when. Its history is append-only (events)."""

    class Method(models.TextChoices):
        EMAIL_PLUS = "email_plus", _("E-mail plus (signed link, then a confirmation e-mail)")

    reference = models.UUIDField(_("reference"), default=uuid.uuid4, unique=True, editable=False)
    country = models.CharField(_("country"), max_length=2)
    method = models.CharField(
        _("method"), max_length=16, choices=Method.choices, default=Method.EMAIL_PLUS
    )
    parent_email_hash = models.CharField(
        _("keyed hash of the parent's address"), max_length=64, db_index=True
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)

    objects = ParentalConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("parental consent")
        verbose_name_plural = _("parental consents")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.reference} ({self.country})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Parental-consent records cannot be changed; add an event.")
        super().save(*args, **kwargs)


class ParentalConsentEvent(models.Model):
    class State(models.TextChoices):
        REQUESTED = "requested", _("Parent asked")
        CONSENTED = "consented", _("Parent consented")
        CONFIRMATION_SENT = "confirmation_sent", _("Confirmation e-mailed to the parent")
        DECLINED = "declined", _("Parent declined; child's data deleted")
        EXPIRED = "expired", _("No answer in time; child's data deleted")
        REVOKED = "revoked", _("Parent revoked; child's data deleted")
        CAME_OF_AGE = "came_of_age", _("Child came of age; parent's consent ended")
        OWN_CONSENT = "own_consent", _("The young person confirmed their own consent")
        OWN_CONSENT_MISSING = "own_consent_missing", _("No own consent in time; data deleted")
        ERASED = "erased", _("Erased on request; child's data deleted")

    consent = models.ForeignKey(
        ParentalConsent,
        verbose_name=_("parental consent"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    state = models.CharField(_("state"), max_length=24, choices=State.choices)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("parental-consent event")
        verbose_name_plural = _("parental-consent events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_state_display()}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Parental-consent events cannot be changed.")
        super().save(*args, **kwargs)


class MarketingPreference(models.Model):
    """One person's marketing choices, by e-mail address.

    Each choice is granted (True), refused (False) or never made (None: MARKETING_DEFAULT
    applies). Erasure keeps the row with only a keyed hash of the address and every choice
    refused, so the person stays on the suppression list and is never contacted again.
    """

    email = models.EmailField(_("e-mail address"), blank=True)
    email_hash = models.CharField(_("keyed hash of the address"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    allow_email = models.BooleanField(_("news and offers by e-mail"), null=True)
    allow_phone = models.BooleanField(_("offers by telephone"), null=True)
    allow_research = models.BooleanField(_("market research and surveys"), null=True)
    allow_affiliates = models.BooleanField(_("sharing with affiliates"), null=True)
    allow_partners = models.BooleanField(_("sharing with partners"), null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("marketing preference")
        verbose_name_plural = _("marketing preferences")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=~models.Q(email=""),
                name="marketing_preference_one_per_address",
            ),
        ]

    def __str__(self) -> str:
        return self.email or _("(erased) %(hash)s") % {"hash": self.email_hash[:12]}


class PreferenceChange(models.Model):
    """One change of one marketing choice: who, when, old and new, why. Append-only."""

    class Actor(models.TextChoices):
        PERSON = "person", _("The person, in the preference centre")
        REGISTRATION = "registration", _("The person, when registering")
        UNSUBSCRIBE = "unsubscribe", _("The person, with an unsubscribe link")
        STAFF = "staff", _("Marketing staff")
        GPC = "gpc", _("Global Privacy Control signal")
        OBJECTION = "objection", _("Objection request")
        ERASURE = "erasure", _("Erasure request")

    preference = models.ForeignKey(
        MarketingPreference,
        verbose_name=_("preference"),
        on_delete=models.PROTECT,
        related_name="changes",
    )
    purpose = models.CharField(_("purpose"), max_length=16)
    old = models.BooleanField(_("from"), null=True)
    new = models.BooleanField(_("to"), null=True)
    actor = models.CharField(_("by"), max_length=16, choices=Actor.choices)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("preference change")
        verbose_name_plural = _("preference history")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.old} → {self.new}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Preference history cannot be changed.")
        super().save(*args, **kwargs)
