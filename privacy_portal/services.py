"""Writes to the versioned policy: drafting and publishing.

Publishing freezes a version (see models.PolicyVersion.save); the SHA-256 of its text is
stored at that moment so anyone can later prove which words were in force.
"""

import datetime
import hashlib

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.configuration import configuration_invalidate

from .models import PolicyVersion
from .selectors import policy_in_force_forget, policy_latest_published, policy_next_number
from .shared_pages import shared_pages_forget


def policy_body_sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@transaction.atomic
def policy_draft_create(
    *,
    language: str,
    body: str | None = None,
    based_on: PolicyVersion | None = None,
    summary_of_changes: str = "",
    requires_reconsent: bool = False,
    effective_date: datetime.date | None = None,
) -> PolicyVersion:
    """Start the next version in `language`, from a body or a copy of `based_on`."""
    if body is None:
        body = based_on.body if based_on else ""
    draft = PolicyVersion(
        number=policy_next_number(language=language),
        language=language,
        body=body,
        summary_of_changes=summary_of_changes,
        requires_reconsent=requires_reconsent,
        effective_date=effective_date,
    )
    draft.full_clean()
    draft.save()
    return draft


@transaction.atomic
def policy_publish(
    *,
    version: PolicyVersion,
    by: AbstractBaseUser | None = None,
    now: datetime.datetime | None = None,
) -> PolicyVersion:
    """Publish a draft: check it follows the last published version, then freeze it."""
    # Lock the row so two staff members cannot publish the same draft twice.
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise ValidationError(
            _("Version %(number)s is already published.") % {"number": version.number}
        )
    if not version.body.strip():
        raise ValidationError(_("An empty policy cannot be published."))
    if version.effective_date is None:
        raise ValidationError(_("Set an effective date before publishing."))
    latest = policy_latest_published(language=version.language)
    if latest is not None:
        if version.number <= latest.number:
            raise ValidationError(
                _("Version %(number)s is not newer than the published version %(latest)s.")
                % {"number": version.number, "latest": latest.number}
            )
        if version.effective_date < latest.effective_date:
            raise ValidationError(
                _("The effective date cannot be before that of version %(latest)s (%(date)s).")
                % {"latest": latest.number, "date": latest.effective_date}
            )
    version.status = PolicyVersion.Status.PUBLISHED
    version.published_at = now or timezone.now()
    version.published_by = by
    version.body_sha256 = policy_body_sha256(version.body)
    version.full_clean()
    version.save()
    # The banner asks again at once when this version requires re-consent; the public
    # pages show the new version at once (now, and again once committed, so no other
    # process can cache the old one in between).
    policy_in_force_forget()
    shared_pages_forget()
    transaction.on_commit(policy_in_force_forget)
    transaction.on_commit(configuration_invalidate)  # drops the shared pages too
    return version


@transaction.atomic
def totp_device_enrol(*, user, name: str = "authenticator", replace: bool = False):
    """Give a staff member a TOTP device (their second factor for the admin).

    With `replace`, their earlier TOTP devices are removed first (a lost phone). The device
    is confirmed at once: enrolment is done by someone with access to the server or by a
    signed-in (verified) administrator, never by the password-only session it protects.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if replace:
        TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name=name, confirmed=True)
