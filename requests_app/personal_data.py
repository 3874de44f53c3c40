"""Personal data held by the request queue: requests, contact messages, legal holds, and
how long each is kept."""

from django.utils.translation import gettext_lazy as _

from .models import ContactMessage, DataSubjectRequest, LegalHold
from .registry import DataSource, Erased, ErasureContext, Period, RetentionRule
from .services import (
    contact_messages_purge,
    exports_purge_expired,
    requests_purge_closed,
    requests_purge_unverified,
)


class RequestSource(DataSource):
    name = "Data-subject requests"
    record_type = "Data-subject request"
    purpose = "data-subject-requests"

    def records(self, email):
        requests = DataSubjectRequest.objects.for_email(email).prefetch_related("events")
        for request in requests.order_by("submitted_at"):
            yield self.item(
                request.pk,
                {
                    "reference": request.reference or "",
                    "kind": request.get_kind_display(),
                    "status": request.get_status_display(),
                    "name": request.name,
                    "e-mail address": request.email,
                    "details": request.details,
                    "submitted": request.submitted_at,
                    "received": request.verified_at,
                    "due date": request.due_date,
                    "outcome": request.outcome,
                    "history": [
                        f"{event.at.isoformat()} {event.action}"
                        for event in request.events.all()
                        if event.visible_to_requester
                    ],
                },
                rectifiable=["name"],
            )

    def erase(self, context: ErasureContext) -> list[Erased]:
        from .services import request_anonymise

        outcomes = []
        for request in DataSubjectRequest.objects.for_email(context.email):
            if held := self.held(context, request.pk):
                outcomes.append(held)
            elif request.pk == context.current_request_id or request.is_open:
                reason = _(
                    "An open request: kept until it is answered, then anonymised, as proof "
                    "that it was answered (Art. 5(2), 17(3)(e))."
                )
                outcomes.append(self.erased(request.pk, "retained", reason))
            else:
                request_anonymise(request)
                reason = _(
                    "Kept as proof that the request was answered (Art. 5(2), 17(3)(e)); "
                    "name, address and details removed."
                )
                outcomes.append(self.erased(request.pk, "anonymised", reason))
        return outcomes

    def rectify(self, key, changes):
        request = DataSubjectRequest.objects.get(pk=key)
        return self.rectify_fields(request, changes, allowed={"name"})


class ContactMessageSource(DataSource):
    name = "Contact messages"
    record_type = "Contact message"
    purpose = "enquiries"

    def records(self, email):
        for message in ContactMessage.objects.filter(email__iexact=email).order_by("received_at"):
            yield self.item(
                message.pk,
                {
                    "received": message.received_at,
                    "name": message.name,
                    "e-mail address": message.email,
                    "message": message.message,
                    "answered": message.answered,
                },
                rectifiable=["name"],
            )

    def erase(self, context):
        outcomes = []
        for message in ContactMessage.objects.filter(email__iexact=context.email):
            if held := self.held(context, message.pk):
                outcomes.append(held)
                continue
            message.delete()
            outcomes.append(self.erased(message.pk, "deleted"))
        return outcomes

    def rectify(self, key, changes):
        message = ContactMessage.objects.get(pk=key)
        return self.rectify_fields(message, changes, allowed={"name"})


class LegalHoldSource(DataSource):
    name = "Legal holds"
    record_type = "Legal hold"
    purpose = "data-subject-requests"

    def records(self, email):
        # The existence of a hold is the person's data; its reason may be legally
        # privileged (a pending claim) and is not part of the export.
        for hold in LegalHold.objects.filter(email__iexact=email):
            yield self.item(
                hold.pk,
                {
                    "placed": hold.created_at,
                    "released": hold.released_at,
                    "covers": hold.record_types or "all records",
                },
            )

    def erase(self, context):
        reason = _("A legal hold is kept while the claim it protects lasts (Art. 17(3)(e)).")
        return [
            self.erased(hold.pk, "retained", reason)
            for hold in LegalHold.objects.filter(email__iexact=context.email)
        ]


SOURCES = [RequestSource(), ContactMessageSource(), LegalHoldSource()]


# --- Retention ---------------------------------------------------------------------------------


class UnverifiedRequestRetention(RetentionRule):
    key = "unverified-requests"
    name = "Requests never confirmed"
    purposes = ("data-subject-requests",)
    days_setting = "REQUEST_VERIFY_DAYS"
    sentence = _("Requests never confirmed: deleted %(period)s after they were made.")

    def purge(self, now, *, dry_run=False):
        return requests_purge_unverified(now=now, dry_run=dry_run)


class ClosedRequestRetention(RetentionRule):
    key = "closed-requests"
    name = "Closed requests"
    purposes = ("data-subject-requests",)
    default = Period(months=36)
    sentence = _(
        "Requests, with our answers: deleted %(period)s after they were closed; after an "
        "erasure they are kept without your name and address until then. A legal hold keeps "
        "what it covers longer."
    )

    def purge(self, now, *, dry_run=False):
        return requests_purge_closed(before=self.cutoff(now), dry_run=dry_run)


class AccessExportRetention(RetentionRule):
    key = "access-exports"
    name = "Access exports"
    purposes = ("data-subject-requests",)
    days_setting = "EXPORT_LINK_DAYS"
    sentence = _("The copy of your data we prepare for you: deleted %(period)s after it is made.")

    def purge(self, now, *, dry_run=False):
        return exports_purge_expired(now=now, dry_run=dry_run)


class LegalHoldRetention(RetentionRule):
    key = "legal-holds"
    name = "Legal holds"
    purposes = ("data-subject-requests",)
    sentence = _("Legal holds: kept while the claim they protect lasts.")


class ContactMessageRetention(RetentionRule):
    key = "contact-messages"
    name = "Contact messages"
    purposes = ("enquiries",)
    default = Period(months=24)
    sentence = _(
        "Your messages: deleted %(period)s after we received them, unless a legal hold covers them."
    )

    def purge(self, now, *, dry_run=False):
        return contact_messages_purge(before=self.cutoff(now), dry_run=dry_run)


RETENTION = [
    UnverifiedRequestRetention(),
    ClosedRequestRetention(),
    AccessExportRetention(),
    LegalHoldRetention(),
    ContactMessageRetention(),
]
