"""Admin building blocks: evidence shown to staff but never added, changed or deleted, and
an admin log that names no person."""

import json

from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType


class ReadOnlyAdmin(admin.ModelAdmin):
    """Evidence: staff may read (and export) it; nobody adds, changes or deletes it here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """An audit trail or report under its parent: every field shown, none editable."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _neutral_message(message: str | list) -> str | list:
    """Django's change message, without the names of inline objects (their str() may be a
    person's name or address); which fields changed is kept."""
    if not isinstance(message, list):
        return message
    return [
        {action: {k: v for k, v in detail.items() if k != "object"}}
        for entry in message
        for action, detail in entry.items()
    ]


class PersonalDataLogMixin:
    """Keep personal data out of Django's admin log (`django_admin_log`).

    Django writes each added, changed or deleted object's str() into its log and keeps it
    forever: past an erasure, a purge or any other ending, the log would still name the
    person. For records that hold personal data the log keeps the kind of record and its
    id ("contact message 12"), which is what the history needs; the portal's own audit log
    (StaffAction) records who did what, without the data either.
    """

    def _log(self, request, objects, action_flag: int, message: str | list = "") -> list:
        if isinstance(message, list):
            message = json.dumps(_neutral_message(message))
        return LogEntry.objects.bulk_create(
            LogEntry(
                user_id=request.user.pk,
                content_type_id=ContentType.objects.get_for_model(obj, for_concrete_model=False).pk,
                object_id=obj.pk,
                object_repr=neutral_repr(obj),
                action_flag=action_flag,
                change_message=message,
            )
            for obj in objects
        )

    def log_addition(self, request, obj, message):
        return self._log(request, [obj], ADDITION, message)[0]

    def log_change(self, request, obj, message):
        return self._log(request, [obj], CHANGE, message)[0]

    def log_deletions(self, request, queryset):
        return self._log(request, queryset, DELETION)


def neutral_repr(obj) -> str:
    """What the admin log may say about a record of personal data: its kind and its id."""
    return f"{obj._meta.verbose_name} {obj.pk}"[:200]
