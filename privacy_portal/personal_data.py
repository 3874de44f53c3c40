"""Personal data held by the portal itself: staff accounts, the e-mail outbox, the staff
audit log and sessions, and how long each is kept."""

import math
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from requests_app.registry import DataSource, Erased, ErasureContext, Period, RetentionRule

from .models import OutgoingEmail, StaffAction


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


# --- Retention ---------------------------------------------------------------------------------


class StaffAccountRetention(RetentionRule):
    key = "staff-accounts"
    name = "Staff accounts"
    purposes = ("staff-accounts",)
    sentence = _(
        "Staff accounts: kept while they are in use; an erased account keeps no name or address."
    )


class StaffAuditRetention(RetentionRule):
    """The portal's audit log of staff reads and writes, and Django's admin history."""

    key = "staff-audit-log"
    name = "Staff audit log and admin history"
    purposes = ("staff-accounts",)
    default = Period(months=36)
    sentence = _("The record of what staff read and changed: deleted %(period)s after each action.")

    def purge(self, now, *, dry_run=False):
        cutoff = self.cutoff(now)
        old = [
            StaffAction.objects.filter(created_at__lt=cutoff),
            LogEntry.objects.filter(action_time__lt=cutoff),
        ]
        return sum(rows.count() if dry_run else rows.delete()[0] for rows in old)


class OutboxRetention(RetentionRule):
    """A mail's copy is kept a while after it left, to answer "did you write to me?"; one
    still waiting to be delivered is never deleted by age."""

    key = "outbox"
    name = "E-mails sent"
    purposes = ("data-subject-requests", "registration", "parental-consent")
    default = Period(months=3)
    sentence = _("E-mails we sent you: deleted %(period)s after they were sent (or given up).")

    def purge(self, now, *, dry_run=False):
        cutoff = self.cutoff(now)
        old = OutgoingEmail.objects.filter(
            Q(status=OutgoingEmail.Status.SENT, sent_at__lt=cutoff)
            | Q(status=OutgoingEmail.Status.FAILED, created_at__lt=cutoff)
        )
        return old.count() if dry_run else old.delete()[0]


class SessionRetention(RetentionRule):
    """Expired sessions (Django's clearsessions): a staff sign-in, or the steps of a
    child's registration, whose session the browser will never send again."""

    key = "sessions"
    name = "Expired sessions"
    purposes = ("staff-accounts", "parental-consent")
    sentence = _("Sessions: deleted once they expire, %(period)s after the last change at most.")

    def period(self):
        return Period(days=math.ceil(settings.SESSION_COOKIE_AGE / 86400))

    def purge(self, now, *, dry_run=False):
        if settings.SESSION_ENGINE.endswith(".db"):
            expired = Session.objects.filter(expire_date__lt=now)
            return expired.count() if dry_run else expired.delete()[0]
        if not dry_run:  # another engine knows its own expired sessions (files, say)
            import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
        return 0


class TaskResultRetention(RetentionRule):
    """Finished background tasks (django-tasks-db): their arguments are ids and keyed
    hashes, not data, but nothing needs them once a week has passed."""

    key = "task-results"
    name = "Finished background tasks"
    default = Period(days=7)

    def purge(self, now, *, dry_run=False):
        if not apps.is_installed("django_tasks_db"):
            return 0
        from django_tasks_db.models import DBTaskResult

        finished = DBTaskResult.objects.filter(finished_at__lt=self.cutoff(now))
        return finished.count() if dry_run else finished.delete()[0]


RETENTION = [
    StaffAccountRetention(),
    StaffAuditRetention(),
    OutboxRetention(),
    SessionRetention(),
    TaskResultRetention(),
]
