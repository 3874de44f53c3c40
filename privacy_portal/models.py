"""The versioned privacy policy.

A published version is evidence: consent records and registrations point at the version
they were given under, so its text must never change after publication. A change is a new
version. The guard lives here (model and QuerySet) so that no code path — admin, shell or a
careless service — can rewrite or delete a published version.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PublishedPolicyVersionError(Exception):
    """Raised when code tries to change or delete a published policy version."""


class PolicyVersionQuerySet(models.QuerySet):
    def published(self) -> "PolicyVersionQuerySet":
        return self.filter(status=PolicyVersion.Status.PUBLISHED)

    def drafts(self) -> "PolicyVersionQuerySet":
        return self.filter(status=PolicyVersion.Status.DRAFT)

    def in_language(self, language: str) -> "PolicyVersionQuerySet":
        return self.filter(language=language)

    def update(self, **kwargs):
        if self.published().exists():
            raise PublishedPolicyVersionError(
                "Published policy versions cannot be changed; publish a new version instead."
            )
        return super().update(**kwargs)

    def delete(self):
        if self.published().exists():
            raise PublishedPolicyVersionError("Published policy versions cannot be deleted.")
        return super().delete()

    delete.queryset_only = True


class PolicyVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    number = models.PositiveIntegerField(
        _("version number"),
        help_text=_("Versions are numbered 1, 2, 3, ... per language."),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language this text is written in."),
    )
    effective_date = models.DateField(
        _("effective date"),
        null=True,
        blank=True,
        help_text=_("The day this version takes effect. Required to publish."),
    )
    body = models.TextField(
        _("policy text"),
        help_text=_(
            "Markdown. Use ## for sections. {{ company_name }} and {{ dpo_email }} are "
            "replaced by the configured company name and DPO address."
        ),
    )
    summary_of_changes = models.TextField(
        _("summary of changes"),
        blank=True,
        help_text=_("Shown in the history: what changed against the previous version."),
    )
    requires_reconsent = models.BooleanField(
        _("requires re-consent"),
        default=False,
        help_text=_("Visitors are asked again for their choices when this version takes effect."),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.DRAFT,
        help_text=_("Drafts can be edited; a published version is frozen."),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    body_sha256 = models.CharField(
        _("SHA-256 of the text"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("Fingerprint of the published text, to prove what was shown."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["language", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["language", "number"], name="policy_version_unique_number"
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="policy_version_number_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | (
                    models.Q(effective_date__isnull=False)
                    & models.Q(published_at__isnull=False)
                    & ~models.Q(body_sha256="")
                ),
                name="policy_version_published_complete",
                violation_error_message=_("A published version needs an effective date."),
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number} ({self.language}, {self.get_status_display()})"

    def save(self, *args, **kwargs) -> None:
        # Guard, not a side effect: the stored row decides, so publishing a draft works
        # (it is stored as a draft) and any later write to it fails.
        if self._stored_as_published():
            raise PublishedPolicyVersionError(
                f"Policy version {self.number} ({self.language}) is published and cannot be "
                "changed; publish a new version instead."
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("privacy_portal:policy-version", kwargs={"number": self.number})

    def delete(self, *args, **kwargs):
        if self._stored_as_published():
            raise PublishedPolicyVersionError(
                f"Policy version {self.number} ({self.language}) is published and cannot be "
                "deleted."
            )
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def _stored_as_published(self) -> bool:
        return (
            self.pk is not None
            and type(self)._base_manager.filter(pk=self.pk, status=self.Status.PUBLISHED).exists()
        )


class OutgoingEmailQuerySet(models.QuerySet):
    def pending(self) -> "OutgoingEmailQuerySet":
        return self.filter(status=OutgoingEmail.Status.PENDING)

    def due(self, now) -> "OutgoingEmailQuerySet":
        return self.pending().filter(next_attempt_at__lte=now)

    def to_address(self, email: str) -> "OutgoingEmailQuerySet":
        return self.filter(to__iexact=email)


class OutgoingEmail(models.Model):
    """The outbox: every e-mail the portal sends is stored first and delivered by a task.

    If the mail server fails, the row stays pending and is tried again later, so a mail
    is delayed, never lost, and the request it belongs to is never rolled back by it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Given up")

    kind = models.CharField(_("kind"), max_length=64, help_text=_("Which message this is."))
    purpose = models.CharField(
        _("purpose"), max_length=64, help_text=_("The processing purpose the mail serves.")
    )
    to = models.EmailField(pgettext_lazy("e-mail recipient", "to"), db_index=True, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    text = models.TextField(_("plain text"), blank=True)
    html = models.TextField(_("HTML"), blank=True)
    headers = models.JSONField(_("extra headers"), default=dict, blank=True)
    related = models.CharField(
        _("about"),
        max_length=128,
        blank=True,
        db_index=True,
        help_text=_("The record the message is about, e.g. requests_app.datasubjectrequest:12."),
    )
    scrub_after_send = models.BooleanField(
        _("forget the content once sent"),
        default=False,
        help_text=_("For the last message to an erased person: only the fact it was sent stays."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at"]
        # Found by address case-insensitively (access export, erasure): UPPER(to) on PostgreSQL.
        indexes = [models.Index(Upper("to"), name="outgoing_email_to_upper")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to} ({self.get_status_display()})"


class StaffActionQuerySet(models.QuerySet):
    def reads(self) -> "StaffActionQuerySet":
        return self.filter(method__in=["GET", "HEAD"])

    def for_model(self, label: str) -> "StaffActionQuerySet":
        return self.filter(model=label)


class StaffAction(models.Model):
    """One staff request in the admin that touched a model: who, when, what, with what result.

    Reads are logged as well as writes (a DPO must be able to say who looked at a person's
    request). The row holds no personal data of the people looked at: object ids, the model,
    the operation and, for a search, a keyed hash of the search term (so "did anyone search
    for this address?" can still be answered). Rows are only ever added; the admin shows
    them read-only and nobody has a permission to change or delete them.
    """

    created_at = models.DateTimeField(_("at"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        help_text=_("Empty once the staff account was deleted; the user name stays."),
    )
    username = models.CharField(_("user name"), max_length=150)
    method = models.CharField(_("method"), max_length=8)
    operation = models.CharField(
        _("operation"),
        max_length=100,
        help_text=_("The admin page or action, e.g. changelist, change, subject, erase."),
    )
    model = models.CharField(_("model"), max_length=100, db_index=True)
    object_ids = models.CharField(_("objects"), max_length=255, blank=True)
    search_hash = models.CharField(
        _("search (keyed hash)"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("HMAC of the search term; the term itself is not kept."),
    )
    path = models.CharField(_("path"), max_length=255)
    status_code = models.PositiveSmallIntegerField(_("response status"))
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    objects = StaffActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff action")
        verbose_name_plural = _("staff actions (audit log)")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["username", "-created_at"], name="staffaction_user_idx")]

    def __str__(self) -> str:
        return f"{self.username} {self.method} {self.operation} {self.model} {self.object_ids}"
