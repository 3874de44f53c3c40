"""Data-subject requests and the register of processing activities.

The register (purposes and their recipients) is declared once and referenced by every
app's personal data, so an access export can say for each item why it is held, on which
legal basis, who receives it, how long it is kept and where it came from (GDPR Art. 15).

A request is evidence of how the company answered: its history (RequestEvent) is
append-only, and erasure reports and notification checklists are kept with it.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy_portal.models import PolicyVersion


class Recipient(models.Model):
    """Someone personal data is disclosed to; notified of erasures (GDPR Art. 19)."""

    class Kind(models.TextChoices):
        AFFILIATE = "affiliate", _("Affiliate")
        PARTNER = "partner", _("Partner")
        PROCESSOR = "processor", _("Processor (acts on our behalf)")
        AUTHORITY = "authority", _("Authority")

    name = models.CharField(_("name"), max_length=128, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    contact = models.CharField(
        _("contact"), max_length=255, blank=True, help_text=_("Where erasure notices go.")
    )

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProcessingPurpose(models.Model):
    """One entry of the register of processing activities (GDPR Art. 30)."""

    class LegalBasis(models.TextChoices):
        CONSENT = "consent", _("Consent (Art. 6(1)(a))")
        CONTRACT = "contract", _("Contract (Art. 6(1)(b))")
        LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation (Art. 6(1)(c))")
        VITAL_INTERESTS = "vital_interests", _("Vital interests (Art. 6(1)(d))")
        PUBLIC_TASK = "public_task", _("Public task (Art. 6(1)(e))")
        LEGITIMATE_INTERESTS = "legitimate_interests", _("Legitimate interests (Art. 6(1)(f))")

    slug = models.SlugField(
        _("identifier"), max_length=64, unique=True, help_text=_("How the apps refer to it.")
    )
    name = models.CharField(_("name"), max_length=128)
    description = models.TextField(_("description"), help_text=_("What is done and why."))
    legal_basis = models.CharField(_("legal basis"), max_length=32, choices=LegalBasis.choices)
    data_categories = models.TextField(
        _("categories of data"), help_text=_("e.g. name, e-mail address, request details")
    )
    recipients = models.ManyToManyField(
        Recipient, verbose_name=_("recipients"), blank=True, related_name="purposes"
    )
    recipients_note = models.CharField(
        _("other recipients"),
        max_length=255,
        blank=True,
        help_text=_("Recipients not listed individually, e.g. 'our hosting provider'."),
    )
    retention = models.CharField(_("retention"), max_length=255)
    source = models.CharField(
        _("source"), max_length=255, help_text=_("Where the data comes from, e.g. 'you'.")
    )
    # What German visitors read (forms, access exports); empty, they are shown the English.
    name_de = models.CharField(_("name (German)"), max_length=128, blank=True)
    description_de = models.TextField(_("description (German)"), blank=True)
    data_categories_de = models.TextField(_("categories of data (German)"), blank=True)
    recipients_note_de = models.CharField(
        _("other recipients (German)"), max_length=255, blank=True
    )
    retention_de = models.CharField(_("retention (German)"), max_length=255, blank=True)
    source_de = models.CharField(_("source (German)"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("processing purpose")
        verbose_name_plural = _("register of processing")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DataSubjectRequestQuerySet(models.QuerySet):
    def verified(self) -> "DataSubjectRequestQuerySet":
        return self.exclude(status=DataSubjectRequest.Status.UNVERIFIED)

    def open(self) -> "DataSubjectRequestQuerySet":
        return self.filter(status__in=DataSubjectRequest.OPEN_STATUSES)

    def overdue(self, today: datetime.date | None = None) -> "DataSubjectRequestQuerySet":
        return self.open().filter(due_date__lt=today or timezone.localdate())

    def for_email(self, email: str) -> "DataSubjectRequestQuerySet":
        return self.filter(email__iexact=email)


class DataSubjectRequest(models.Model):
    class Kind(models.TextChoices):
        ACCESS = "access", _("Access to my data")
        RECTIFICATION = "rectification", _("Correction of my data")
        ERASURE = "erasure", _("Erasure of my data")
        OBJECTION = "objection", _("Objection to marketing")
        PORTABILITY = "portability", _("A portable copy of my data")
        RESTRICTION = "restriction", _("Restriction of processing")

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", _("Waiting for e-mail confirmation")
        VERIFIED = "verified", _("Received")
        IN_PROGRESS = "in_progress", _("In progress")
        AWAITING_REQUESTER = "awaiting_requester", _("Waiting for the requester")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")

    OPEN_STATUSES = [Status.VERIFIED, Status.IN_PROGRESS, Status.AWAITING_REQUESTER]

    reference = models.CharField(
        _("reference"),
        max_length=20,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Given when the requester confirms the e-mail address."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.UNVERIFIED
    )
    name = models.CharField(_("name"), max_length=128, blank=True)
    email = models.EmailField(_("e-mail address"), db_index=True, blank=True)
    email_hash = models.CharField(
        _("keyed hash of the e-mail address"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("Kept when the request is anonymised after an erasure."),
    )
    details = models.TextField(
        _("details"),
        blank=True,
        help_text=_("What to correct, or which data the request is about."),
    )
    language = models.CharField(_("language"), max_length=8, default=settings.LANGUAGE_CODE)
    purpose = models.ForeignKey(
        ProcessingPurpose,
        verbose_name=_("purpose"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Why the requester's data in this request is held."),
    )
    policy_version = models.ForeignKey(
        PolicyVersion,
        verbose_name=_("policy version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The privacy policy in force when the request was made."),
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    verified_at = models.DateTimeField(_("received"), null=True, blank=True, db_index=True)
    due_date = models.DateField(_("due date"), null=True, blank=True, db_index=True)
    original_due_date = models.DateField(_("first due date"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_requests",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = models.TextField(
        _("outcome"), blank=True, help_text=_("Told to the requester: what was done, or why not.")
    )
    export_file = models.CharField(_("export file"), max_length=255, blank=True)
    export_created_at = models.DateTimeField(_("export built at"), null=True, blank=True)
    export_expires_at = models.DateTimeField(_("download link expires"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    objects = DataSubjectRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        ordering = ["due_date", "verified_at"]
        indexes = [
            # Look-ups by address are case-insensitive (`for_email`, the admin's search):
            # on PostgreSQL they compare UPPER(email), which only an index on it can serve.
            models.Index(Upper("email"), name="request_email_upper"),
            models.Index(Upper("reference"), name="request_reference_upper"),
            # The open queue (overdue, due this week) stays small however long the history.
            models.Index(
                fields=["due_date", "verified_at"],
                condition=models.Q(status__in=["verified", "in_progress", "awaiting_requester"]),
                name="request_open_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="unverified")
                | (
                    models.Q(reference__isnull=False)
                    & models.Q(verified_at__isnull=False)
                    & models.Q(due_date__isnull=False)
                ),
                name="request_verified_has_reference_and_due_date",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or _("Unverified request %(pk)s") % {"pk": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("admin:requests_app_datasubjectrequest_change", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_extended(self) -> bool:
        return self.original_due_date is not None and self.due_date != self.original_due_date

    def days_left(self, today: datetime.date | None = None) -> int | None:
        if self.due_date is None:
            return None
        return (self.due_date - (today or timezone.localdate())).days


class RequestEvent(models.Model):
    """One entry in a request's audit trail: who did what, when, from which state to which."""

    request = models.ForeignKey(
        DataSubjectRequest,
        verbose_name=_("request"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the requester or the system."),
    )
    action = models.CharField(_("action"), max_length=64)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    note = models.TextField(_("note"), blank=True)
    visible_to_requester = models.BooleanField(_("shown to the requester"), default=False)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs) -> None:
        # The audit trail is append-only (erasure's anonymisation is the one exception, done
        # with an explicit UPDATE in the erasure service).
        if self.pk is not None:
            raise ValueError("Request events cannot be changed.")
        super().save(*args, **kwargs)


class ReferenceCounter(models.Model):
    """The last request reference number given in a year (DSR-2026-000123)."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class ContactMessage(models.Model):
    """A question or comment sent through /contact/ (the policy's "Contact Us")."""

    name = models.CharField(_("name"), max_length=128)
    email = models.EmailField(_("e-mail address"), db_index=True)
    message = models.TextField(_("message"))
    language = models.CharField(_("language"), max_length=8, default=settings.LANGUAGE_CODE)
    purpose = models.ForeignKey(
        ProcessingPurpose, verbose_name=_("purpose"), on_delete=models.PROTECT, related_name="+"
    )
    policy_version = models.ForeignKey(
        PolicyVersion,
        verbose_name=_("policy version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    answered = models.BooleanField(_("answered"), default=False)

    class Meta:
        verbose_name = _("contact message")
        verbose_name_plural = _("contact messages")
        ordering = ["-received_at"]
        indexes = [models.Index(Upper("email"), name="contact_email_upper")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> {self.received_at:%Y-%m-%d}"


class LegalHold(models.Model):
    """Data about one person that must not be erased yet (e.g. a pending legal claim)."""

    email = models.EmailField(_("e-mail address"), db_index=True)
    reason = models.TextField(
        _("reason"), help_text=_("Recorded with every record an erasure keeps because of it.")
    )
    record_types = models.CharField(
        _("record types"),
        max_length=255,
        blank=True,
        help_text=_("Comma-separated record types it covers; empty: everything."),
    )
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-created_at"]
        indexes = [models.Index(Upper("email"), name="legal_hold_email_upper")]

    def __str__(self) -> str:
        return f"{self.email}: {self.reason[:40]}"

    def covers(self, record_type: str) -> bool:
        types = {t.strip() for t in self.record_types.split(",") if t.strip()}
        return not types or record_type in types


class ErasureItem(models.Model):
    """What an erasure did with one record (never the record's data itself)."""

    class Outcome(models.TextChoices):
        DELETED = "deleted", _("Deleted")
        ANONYMISED = "anonymised", _("Anonymised")
        RETAINED = "retained", _("Kept")

    request = models.ForeignKey(
        DataSubjectRequest,
        verbose_name=_("request"),
        on_delete=models.PROTECT,
        related_name="erasure_items",
    )
    source = models.CharField(_("data source"), max_length=128)
    record_type = models.CharField(_("record type"), max_length=128)
    record_key = models.CharField(_("record"), max_length=64)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    reason = models.TextField(
        _("reason"), blank=True, help_text=_("Why it was kept or anonymised (Art. 17(3)).")
    )
    purpose = models.CharField(_("purpose"), max_length=64)

    class Meta:
        verbose_name = _("erased record")
        verbose_name_plural = _("erasure report")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_key}: {self.get_outcome_display()}"


class ErasureNotice(models.Model):
    """A recipient to tell about an erasure (Art. 19), ticked off when notified."""

    request = models.ForeignKey(
        DataSubjectRequest,
        verbose_name=_("request"),
        on_delete=models.PROTECT,
        related_name="erasure_notices",
    )
    recipient = models.ForeignKey(
        Recipient, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="+"
    )
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("notified by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("erasure notice")
        verbose_name_plural = _("erasure notices (Art. 19)")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "recipient"], name="one_notice_per_recipient"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {'notified' if self.notified_at else 'to notify'}"
