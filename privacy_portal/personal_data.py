"""Personal data held by the portal itself: staff accounts and the e-mail outbox."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from requests_app.registry import DataSource, Erased, ErasureContext

from .models import OutgoingEmail


class StaffAccountSource(DataSource):
    name = "Staff accounts"
    record_type = "Staff account"
    purpose = "staff-accounts"

    def records(self, email):
        users = get_user_model().objects.filter(email__iexact=email).prefetch_related("groups")
        for user in users:
            yield self.item(
                user.pk,
                {
                    "username": user.get_username(),
                    "first name": user.first_name,
                    "last name": user.last_name,
                    "e-mail address": user.email,
                    "joined": user.date_joined,
                    "last sign-in": user.last_login,
                    "staff": user.is_staff,
                    "groups": [group.name for group in user.groups.all()],
                },
                rectifiable=["first_name", "last_name"],
            )

    def erase(self, context: ErasureContext) -> list[Erased]:
        reason = _(
            "The account is kept, disabled and without name or address, because the audit "
            "trail of the work done with it refers to it (Art. 17(3)(e))."
        )
        outcomes = []
        for user in get_user_model().objects.filter(email__iexact=context.email):
            if held := self.held(context, user.pk):
                outcomes.append(held)
                continue
            user.username = f"erased-{user.pk}"
            user.first_name = user.last_name = user.email = ""
            user.is_active = False
            user.set_unusable_password()
            user.save()
            outcomes.append(self.erased(user.pk, "anonymised", reason))
        return outcomes

    def rectify(self, key, changes):
        user = get_user_model().objects.get(pk=key)
        return self.rectify_fields(user, changes, allowed={"first_name", "last_name"})


class OutgoingEmailSource(DataSource):
    name = "E-mails we sent you"
    record_type = "E-mail"
    purpose = "data-subject-requests"

    def records(self, email):
        for message in OutgoingEmail.objects.to_address(email).order_by("created_at"):
            yield self.item(
                message.pk,
                {
                    "queued": message.created_at,
                    "sent": message.sent_at,
                    "status": message.get_status_display(),
                    "subject": message.subject,
                    "text": message.text,
                },
                purpose=message.purpose,
            )

    def erase(self, context):
        outcomes = []
        for message in OutgoingEmail.objects.to_address(context.email):
            if held := self.held(context, message.pk):
                outcomes.append(held)
            elif message.status == OutgoingEmail.Status.PENDING:
                # Not delivered yet: deleting it would silently drop a notice we owe.
                OutgoingEmail.objects.filter(pk=message.pk).update(scrub_after_send=True)
                reason = _("Not delivered yet; its content is deleted as soon as it is sent.")
                outcomes.append(
                    self.erased(message.pk, "retained", reason, purpose=message.purpose)
                )
            else:
                message.delete()
                outcomes.append(self.erased(message.pk, "deleted", purpose=message.purpose))
        return outcomes


SOURCES = [StaffAccountSource(), OutgoingEmailSource()]
