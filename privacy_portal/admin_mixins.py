"""Admin building blocks for evidence: shown to staff, never added, changed or deleted."""

from django.contrib import admin


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
