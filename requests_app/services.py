"""Writes of the request queue: submit, verify, work, extend, export, erase, close.

Every change to a request is one transaction that also appends to its audit trail and
queues any e-mail it owes the requester (privacy_portal.outbox: delivered after commit,
retried until the mail server takes it).
"""

import datetime
import functools
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.preferences import marketing_object
from consent.services import consent_subject_link
from privacy_portal.hashing import email_hash, email_normalise
from privacy_portal.models import OutgoingEmail
from privacy_portal.outbox import email_queue
from privacy_portal.selectors import policy_in_force

from . import tokens
from .dates import MAX_EXTENSION_MONTHS, add_months, due_date_for
from .exports import export_zip
from .models import (
    ContactMessage,
    DataSubjectRequest,
    ErasureItem,
    ErasureNotice,
    LegalHold,
    ProcessingPurpose,
    Recipient,
    ReferenceCounter,
    RequestEvent,
)
from .registry import ErasureContext, data_source, data_sources

Status = DataSubjectRequest.Status
REQUESTS_PURPOSE = "data-subject-requests"


def _related(request: DataSubjectRequest) -> str:
    return f"requests_app.datasubjectrequest:{request.pk}"


def _link(name: str, token: str) -> str:
    return settings.PORTAL_BASE_URL + reverse(f"requests_app:{name}", args=[token])


def _event(
    request: DataSubjectRequest,
    action: str,
    *,
    by: AbstractBaseUser | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    visible: bool = False,
    at: datetime.datetime | None = None,
) -> RequestEvent:
    return RequestEvent.objects.create(
        request=request,
        at=at or timezone.now(),
        actor=by,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        visible_to_requester=visible,
    )


def _mail(
    request: DataSubjectRequest, template: str, *, scrub_after_send: bool = False, **context
) -> OutgoingEmail:
    return email_queue(
        to=request.email,
        template=f"requests_app/email/{template}",
        context={
            "request": request,
            "status_url": _link("request-status", tokens.token_make(tokens.STATUS, request.pk)),
            **context,
        },
        kind=f"request_{template}",
        purpose=REQUESTS_PURPOSE,
        language=request.language,
        related=_related(request),
        scrub_after_send=scrub_after_send,
    )


def _locked(request: DataSubjectRequest) -> DataSubjectRequest:
    return DataSubjectRequest.objects.select_for_update().get(pk=request.pk)


def _require_address(request: DataSubjectRequest) -> None:
    """A request anonymised after an erasure has no address to look anything up with; an
    empty address would match every record that has none."""
    if not request.email.strip():
        raise ValidationError(
            _("Request %(reference)s was anonymised after an erasure; it has no address any more.")
            % {"reference": request}
        )


def _require_open(request: DataSubjectRequest) -> None:
    if not request.is_open:
        raise ValidationError(
            _("Request %(reference)s is %(status)s; it can no longer be changed.")
            % {"reference": request, "status": request.get_status_display().lower()}
        )


# --- The requester's side ----------------------------------------------------------------


@transaction.atomic
def request_submit(
    *, kind: str, name: str, email: str, details: str = "", language: str = "en"
) -> DataSubjectRequest:
    """Store an unverified request and mail the verification link. Nothing enters the
    queue until the link is followed; unverified requests are purged after a few days."""
    policy = policy_in_force(language=language)
    request = DataSubjectRequest(
        kind=kind,
        name=name.strip(),
        email=email_normalise(email),
        details=details.strip(),
        language=language,
        purpose=ProcessingPurpose.objects.get(slug=REQUESTS_PURPOSE),
        policy_version=policy,
    )
    request.full_clean()
    request.save()
    _event(request, "submitted", to_status=Status.UNVERIFIED, visible=True)
    _mail(
        request,
        "verification",
        verify_url=_link("request-verify", tokens.token_make(tokens.VERIFY, request.pk)),
        verify_days=settings.REQUEST_VERIFY_DAYS,
    )
    return request


def _reference_next(year: int) -> str:
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"DSR-{year}-{counter.last:06d}"


@transaction.atomic
def request_verify(
    *,
    request: DataSubjectRequest,
    http_request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> DataSubjectRequest:
    """The requester followed the link: the request is received now and the one-month
    deadline starts. Following the link again changes nothing."""
    request = _locked(request)
    if request.status != Status.UNVERIFIED:
        return request
    now = now or timezone.now()
    received = timezone.localdate(now)
    request.status = Status.VERIFIED
    request.verified_at = now
    request.due_date = request.original_due_date = due_date_for(received)
    request.reference = _reference_next(received.year)
    request.full_clean()
    request.save()
    _event(
        request,
        "verified",
        from_status=Status.UNVERIFIED,
        to_status=Status.VERIFIED,
        note=_("Due by %(date)s.") % {"date": request.due_date.isoformat()},
        visible=True,
        at=now,
    )
    _mail(request, "acknowledgement")
    if http_request is not None:
        consent_subject_link(request=http_request, email=request.email, source="request")
    return request


# --- The DPO's side ----------------------------------------------------------------------


@transaction.atomic
def request_assign(
    *, request: DataSubjectRequest, assignee: AbstractBaseUser | None, by: AbstractBaseUser
) -> DataSubjectRequest:
    request = _locked(request)
    previous = request.assignee
    if previous == assignee:
        return request
    request.assignee = assignee
    request.save(update_fields=["assignee"])
    _event(
        request,
        "assigned",
        by=by,
        note=f"{previous or '—'} → {assignee or '—'}",
    )
    return request


TRANSITIONS = {
    Status.IN_PROGRESS: {Status.VERIFIED, Status.AWAITING_REQUESTER},
    Status.AWAITING_REQUESTER: {Status.VERIFIED, Status.IN_PROGRESS},
}


@transaction.atomic
def request_transition(
    *, request: DataSubjectRequest, to_status: str, by: AbstractBaseUser, note: str = ""
) -> DataSubjectRequest:
    """Move an open request between received, in progress and awaiting the requester."""
    request = _locked(request)
    if request.status == to_status:
        return request
    if request.status not in TRANSITIONS.get(to_status, set()):
        raise ValidationError(
            _("A request that is %(current)s cannot be set to %(target)s.")
            % {
                "current": request.get_status_display().lower(),
                "target": Status(to_status).label.lower(),
            }
        )
    previous = request.status
    request.status = to_status
    request.save(update_fields=["status"])
    _event(request, "status", by=by, from_status=previous, to_status=to_status, note=note,
           visible=True)  # fmt: skip
    _mail(request, "status_changed")
    return request


@transaction.atomic
def request_note_add(
    *, request: DataSubjectRequest, note: str, by: AbstractBaseUser
) -> RequestEvent:
    if not note.strip():
        raise ValidationError(_("A note cannot be empty."))
    return _event(request, "note", by=by, note=note.strip())


@transaction.atomic
def request_extend(
    *,
    request: DataSubjectRequest,
    months: int,
    reason: str,
    by: AbstractBaseUser,
    today: datetime.date | None = None,
) -> DataSubjectRequest:
    """Extend the deadline once, by one or two months, with a reason, while the first month
    runs (Art. 12(3)); the requester is told why."""
    request = _locked(request)
    _require_open(request)
    today = today or timezone.localdate()
    if request.is_extended:
        raise ValidationError(_("The deadline of this request has already been extended."))
    if not reason.strip():
        raise ValidationError(_("Give the reason for the extension; the requester is told."))
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise ValidationError(_("An extension is one or two months (at most three months in all)."))
    if today > request.original_due_date:
        raise ValidationError(
            _("The first month ended on %(date)s: an extension had to be decided before then.")
            % {"date": request.original_due_date.isoformat()}
        )
    previous = request.due_date
    request.due_date = add_months(request.original_due_date, months)
    request.extension_reason = reason.strip()
    request.save(update_fields=["due_date", "extension_reason"])
    _event(
        request,
        "extended",
        by=by,
        note=f"{previous.isoformat()} → {request.due_date.isoformat()}: {request.extension_reason}",
        visible=True,
    )
    _mail(request, "extension")
    return request


def _export_path(name: str):
    return settings.EXPORT_ROOT / name


def request_export_build(
    *, request: DataSubjectRequest, by: AbstractBaseUser, now: datetime.datetime | None = None
) -> DataSubjectRequest:
    """Build the access export (zip of JSON, CSV and an HTML summary) outside any public
    path, and mail the requester a download link valid for EXPORT_LINK_DAYS."""
    name = f"{request.reference}-{secrets.token_hex(16)}.zip"
    try:
        return _export_build(request=request, by=by, now=now or timezone.now(), name=name)
    except BaseException:
        # Nothing was recorded: no file of personal data may stay behind.
        _export_path(name).unlink(missing_ok=True)
        raise


@transaction.atomic
def _export_build(
    *, request: DataSubjectRequest, by: AbstractBaseUser, now: datetime.datetime, name: str
) -> DataSubjectRequest:
    request = _locked(request)
    _require_open(request)
    _require_address(request)
    content = export_zip(email=request.email, request=request, generated_at=now)
    settings.EXPORT_ROOT.mkdir(parents=True, exist_ok=True)
    _export_path(name).write_bytes(content)
    old = request.export_file
    request.export_file = name
    request.export_created_at = now
    request.export_expires_at = now + datetime.timedelta(days=settings.EXPORT_LINK_DAYS)
    request.save(update_fields=["export_file", "export_created_at", "export_expires_at"])
    if old:
        transaction.on_commit(lambda: _export_path(old).unlink(missing_ok=True))
    _event(request, "export_built", by=by, note=f"{len(content)} bytes", visible=True)
    _mail(request, "export_ready", download_url=request_download_url(request))
    return request


def request_download_url(request: DataSubjectRequest) -> str:
    token = tokens.token_make(tokens.DOWNLOAD, request.pk, f=request.export_file)
    return _link("request-download", token)


@dataclass(frozen=True)
class ErasureResult:
    erased: int
    anonymised: int
    retained: int
    notices: int


@transaction.atomic
def request_erase(*, request: DataSubjectRequest, by: AbstractBaseUser) -> ErasureResult:
    """Erase the requester's data in every registered app, in one transaction: a failure
    anywhere changes nothing. Records kept as proof are anonymised; legal holds and the
    Art. 17(3) exceptions are recorded per record; recipients are listed for notice."""
    request = _locked(request)
    _require_open(request)
    _require_address(request)
    holds = list(LegalHold.objects.filter(email__iexact=request.email, released_at__isnull=True))
    context = ErasureContext(email=request.email, holds=holds, current_request_id=request.pk)
    outcomes = [outcome for source in data_sources() for outcome in source.erase(context)]
    ErasureItem.objects.bulk_create(
        ErasureItem(
            request=request,
            source=o.source,
            record_type=o.record_type,
            record_key=o.key,
            outcome=o.outcome,
            reason=o.reason,
            purpose=o.purpose,
        )
        for o in outcomes
    )
    touched = {o.purpose for o in outcomes if o.outcome != ErasureItem.Outcome.RETAINED}
    recipients = Recipient.objects.filter(purposes__slug__in=touched).distinct()
    notices = 0
    for recipient in recipients:
        _notice, created = ErasureNotice.objects.get_or_create(request=request, recipient=recipient)
        notices += created
    counts = {kind: sum(1 for o in outcomes if o.outcome == kind) for kind in ErasureItem.Outcome}
    _event(
        request,
        "erased",
        by=by,
        note=_(
            "%(deleted)d deleted, %(anonymised)d anonymised, %(retained)d kept; "
            "%(notices)d recipient(s) to notify."
        )
        % {
            "deleted": counts[ErasureItem.Outcome.DELETED],
            "anonymised": counts[ErasureItem.Outcome.ANONYMISED],
            "retained": counts[ErasureItem.Outcome.RETAINED],
            "notices": notices,
        },
        visible=True,
    )
    return ErasureResult(
        erased=counts[ErasureItem.Outcome.DELETED],
        anonymised=counts[ErasureItem.Outcome.ANONYMISED],
        retained=counts[ErasureItem.Outcome.RETAINED],
        notices=notices,
    )


@transaction.atomic
def request_notice_mark(*, notice: ErasureNotice, by: AbstractBaseUser) -> ErasureNotice:
    """Tick off a recipient told about the erasure (Art. 19)."""
    notice = ErasureNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.notified_at is None:
        notice.notified_at = timezone.now()
        notice.notified_by = by
        notice.save(update_fields=["notified_at", "notified_by"])
        _event(notice.request, "recipient_notified", by=by, note=str(notice.recipient))
    return notice


@transaction.atomic
def request_rectify(
    *,
    request: DataSubjectRequest,
    source_name: str,
    key: str,
    changes: dict[str, str],
    by: AbstractBaseUser,
) -> dict:
    """Correct a record of the requester's through its registered source; the audit trail
    keeps which fields changed, from what, to what."""
    request = _locked(request)
    _require_open(request)
    _require_address(request)
    if not changes:
        raise ValidationError(_("Nothing to correct: fill in at least one field."))
    source = data_source(source_name)
    if source is None:
        raise ValidationError(_("Unknown data source."))
    belongs = any(item.key == key for item in source.records(request.email))
    if not belongs:
        raise ValidationError(_("That record does not belong to this requester."))
    previous = source.rectify(key, changes)
    summary = "; ".join(
        f"{field}: {previous.get(field)!r} → {value!r}" for field, value in changes.items()
    )
    _event(request, "rectified", by=by, note=f"{source.record_type} {key}: {summary}", visible=True)
    return previous


def request_anonymise(request: DataSubjectRequest) -> None:
    """Keep the request as proof that it was answered, without what identifies the person
    (and without its access export, which is deleted)."""
    if request.anonymised_at is not None:
        return
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        email_hash=email_hash(request.email) if request.email else request.email_hash,
        name="",
        email="",
        details="",
        outcome="",
        export_file="",
        export_expires_at=None,
        anonymised_at=timezone.now(),
    )
    if request.export_file:
        old = request.export_file
        transaction.on_commit(lambda: _export_path(old).unlink(missing_ok=True))
    # The audit trail is append-only; anonymisation is the one rewrite it allows.
    RequestEvent.objects.filter(request=request).exclude(note="").update(note="(anonymised)")


@transaction.atomic
def request_complete(
    *, request: DataSubjectRequest, by: AbstractBaseUser, outcome: str = ""
) -> DataSubjectRequest:
    """Close the request as done and tell the requester (with the download link while it
    lasts). After an erasure, the request is then anonymised too."""
    request = _locked(request)
    _require_open(request)
    previous = request.status
    request.status = Status.COMPLETED
    request.closed_at = timezone.now()
    request.outcome = outcome.strip()
    request.save(update_fields=["status", "closed_at", "outcome"])
    if request.kind == DataSubjectRequest.Kind.OBJECTION:
        # Art. 21(3): the objection is carried out in the one place every sender asks.
        marketing_object(email=request.email, reference=request.reference)
    _event(request, "completed", by=by, from_status=previous, to_status=Status.COMPLETED,
           visible=True)  # fmt: skip
    download = (
        request_download_url(request)
        if request.export_file and request.export_expires_at > timezone.now()
        else ""
    )
    erased = request.erasure_items.exists()
    forget = _person_erased(request)
    _mail(request, "completed", download_url=download, erased=erased, scrub_after_send=forget)
    if forget:
        request_anonymise(request)
        request.refresh_from_db()
    return request


def _person_erased(request: DataSubjectRequest) -> bool:
    """Whether an erasure ran for this person (this request or another of theirs): then a
    request is anonymised as soon as it is closed."""
    if not request.email:
        return True
    return ErasureItem.objects.filter(
        Q(request__email__iexact=request.email) | Q(request__email_hash=email_hash(request.email))
    ).exists()


@transaction.atomic
def request_reject(
    *, request: DataSubjectRequest, reason: str, by: AbstractBaseUser
) -> DataSubjectRequest:
    """Refuse the request with a reason the requester is told (and may complain about)."""
    request = _locked(request)
    _require_open(request)
    if not reason.strip():
        raise ValidationError(
            _("Give the reason for rejecting the request; it is sent to the requester.")
        )
    previous = request.status
    request.status = Status.REJECTED
    request.closed_at = timezone.now()
    request.outcome = reason.strip()
    old_export = request.export_file
    request.export_file = ""
    request.save(update_fields=["status", "closed_at", "outcome", "export_file"])
    if old_export:
        transaction.on_commit(lambda: _export_path(old_export).unlink(missing_ok=True))
    _event(request, "rejected", by=by, from_status=previous, to_status=Status.REJECTED,
           note=request.outcome, visible=True)  # fmt: skip
    forget = _person_erased(request)
    _mail(request, "rejected", scrub_after_send=forget)
    if forget:
        request_anonymise(request)
        request.refresh_from_db()
    return request


# --- Housekeeping ------------------------------------------------------------------------


def requests_purge_unverified(
    *, now: datetime.datetime | None = None, dry_run: bool = False
) -> int:
    """Delete requests never verified within REQUEST_VERIFY_DAYS, with their mails."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.REQUEST_VERIFY_DAYS)
    stale = DataSubjectRequest.objects.filter(status=Status.UNVERIFIED, submitted_at__lt=cutoff)
    ids = list(stale.values_list("pk", flat=True))
    if dry_run or not ids:
        return len(ids)
    with transaction.atomic():
        OutgoingEmail.objects.filter(
            related__in=[f"requests_app.datasubjectrequest:{pk}" for pk in ids]
        ).delete()
        RequestEvent.objects.filter(request_id__in=ids).delete()
        DataSubjectRequest.objects.filter(pk__in=ids, status=Status.UNVERIFIED).delete()
    return len(ids)


def _not_held(queryset, record_type: str, *, hashed: bool = False):
    """Leave out what an active legal hold covers: by address, and for anonymised requests
    (`hashed`) by the keyed hash of the address."""
    for hold in LegalHold.objects.filter(released_at=None):
        if hold.covers(record_type):
            held = Q(email__iexact=hold.email)
            if hashed:
                held |= Q(email_hash=email_hash(hold.email))
            queryset = queryset.exclude(held)
    return queryset


def requests_purge_closed(*, before: datetime.datetime, dry_run: bool = False) -> int:
    """Delete requests closed before `before`, with their audit trail, erasure report,
    notification checklist, mails and access export: their time as proof is over. Requests
    an active legal hold covers are kept."""
    closed = DataSubjectRequest.objects.exclude(status__in=DataSubjectRequest.OPEN_STATUSES)
    closed = _not_held(closed.filter(closed_at__lt=before), "Data-subject request", hashed=True)
    found = list(closed.values_list("pk", "export_file"))
    if dry_run or not found:
        return len(found)
    ids = [pk for pk, _file in found]
    with transaction.atomic():
        OutgoingEmail.objects.filter(
            related__in=[f"requests_app.datasubjectrequest:{pk}" for pk in ids]
        ).delete()
        for model in (RequestEvent, ErasureItem, ErasureNotice):
            model.objects.filter(request_id__in=ids).delete()
        DataSubjectRequest.objects.filter(pk__in=ids).delete()
        for export in (file for _pk, file in found if file):
            transaction.on_commit(functools.partial(_export_path(export).unlink, missing_ok=True))
    return len(ids)


def contact_messages_purge(*, before: datetime.datetime, dry_run: bool = False) -> int:
    """Delete contact messages received before `before`, except what a legal hold covers."""
    old = _not_held(ContactMessage.objects.filter(received_at__lt=before), "Contact message")
    if dry_run:
        return old.count()
    return old.delete()[0]


def exports_purge_expired(*, now: datetime.datetime | None = None, dry_run: bool = False) -> int:
    """Delete access exports whose download link has expired, and any file under EXPORT_ROOT
    no request refers to that is as old as a link lasts (left by a crash between writing a
    file and committing it, or by an unlink that failed)."""
    now = now or timezone.now()
    expired = DataSubjectRequest.objects.exclude(export_file="").filter(export_expires_at__lt=now)
    count = 0
    for request in expired:
        count += 1
        if dry_run:
            continue
        with transaction.atomic():
            # Only if it is still the same file: a new export may have been built meanwhile.
            cleared = DataSubjectRequest.objects.filter(
                pk=request.pk, export_file=request.export_file
            ).update(export_file="")
            if cleared:
                _event(request, "export_deleted", note=_("The download link expired."))
                path = _export_path(request.export_file)
                transaction.on_commit(functools.partial(path.unlink, missing_ok=True))
    return count + _exports_purge_orphans(now=now, dry_run=dry_run)


def _exports_purge_orphans(*, now: datetime.datetime, dry_run: bool) -> int:
    root = settings.EXPORT_ROOT
    if not root.is_dir():
        return 0
    cutoff = (now - datetime.timedelta(days=settings.EXPORT_LINK_DAYS)).timestamp()
    known = set(DataSubjectRequest.objects.exclude(export_file="").values_list("export_file"))
    orphans = [
        path
        for path in root.iterdir()
        if path.is_file() and (path.name,) not in known and path.stat().st_mtime < cutoff
    ]
    if not dry_run:
        for path in orphans:
            path.unlink(missing_ok=True)
    return len(orphans)


@transaction.atomic
def contact_message_submit(*, name: str, email: str, message: str, language: str) -> ContactMessage:
    """Store a question or comment for the DPO, with its purpose and the policy in force."""
    contact = ContactMessage(
        name=name.strip(),
        email=email_normalise(email),
        message=message.strip(),
        language=language,
        purpose=ProcessingPurpose.objects.get(slug="enquiries"),
        policy_version=policy_in_force(language=language),
    )
    contact.full_clean()
    contact.save()
    return contact
