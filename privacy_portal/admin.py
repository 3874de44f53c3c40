"""The DPO's policy admin: write drafts, preview them, publish; published versions are frozen."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .admin_mixins import PersonalDataLogMixin, ReadOnlyAdmin
from .hashing import email_hash
from .models import OutgoingEmail, PolicyVersion, StaffAction
from .outbox import email_attempt
from .rendering import render_policy
from .selectors import policy_latest_published, policy_next_number
from .services import policy_draft_create, policy_publish

# Publishing and drafting are offered in the list and on each version's page.
BOTH_LOCATIONS = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]


class PolicyVersionForm(forms.ModelForm):
    class Meta:
        model = PolicyVersion
        fields = [
            "number",
            "language",
            "effective_date",
            "requires_reconsent",
            "summary_of_changes",
            "body",
        ]

    def clean(self):
        cleaned = super().clean()
        number, language = cleaned.get("number"), cleaned.get("language")
        if number is None or not language:
            return cleaned
        latest = policy_latest_published(language=language)
        if latest is not None and number <= latest.number:
            self.add_error(
                "number",
                _("Version %(latest)s is already published; a new version needs a higher number.")
                % {"latest": latest.number},
            )
        return cleaned


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    form = PolicyVersionForm
    list_display = [
        "number",
        "language",
        "status",
        "effective_date",
        "requires_reconsent",
        "published_at",
        "published_by",
    ]
    list_display_links = ["number"]
    list_filter = ["status", "language", "requires_reconsent"]
    list_select_related = ["published_by"]
    search_fields = ["summary_of_changes", "body"]
    date_hierarchy = "effective_date"
    ordering = ["language", "-number"]
    actions = ["publish_selected", "draft_from_selected"]
    readonly_fields = ["preview", "status", "published_at", "published_by", "body_sha256"]

    def get_fieldsets(self, request: HttpRequest, obj: PolicyVersion | None = None):
        main = ["number", "language", "effective_date", "requires_reconsent"]
        text = ["summary_of_changes", "body"]
        if obj is None:
            return [(None, {"fields": main}), (_("Text"), {"fields": text})]
        record = ["status", "published_at", "published_by", "body_sha256"]
        return [
            (None, {"fields": main}),
            (_("Text"), {"fields": text}),
            (_("Preview"), {"fields": ["preview"]}),
            (_("Publication record"), {"fields": record}),
        ]

    def has_change_permission(self, request: HttpRequest, obj: PolicyVersion | None = None):
        # A published version is evidence: the admin shows it read-only (a POST is a 403).
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: PolicyVersion | None = None):
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        # Bulk delete would reach published versions; drafts are deleted one by one.
        actions.pop("delete_selected", None)
        return actions

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        """A new version starts as a copy of the latest one, with the next number."""
        initial = super().get_changeform_initial_data(request)
        language = initial.get("language") or request.LANGUAGE_CODE
        latest = PolicyVersion.objects.in_language(language).order_by("-number").first()
        initial.setdefault("language", language)
        initial.setdefault("number", policy_next_number(language=language))
        if latest is not None:
            initial.setdefault("body", latest.body)
        return initial

    @admin.display(description=_("Preview"))
    def preview(self, obj: PolicyVersion) -> str:
        if not obj.pk:
            return "—"
        # render_policy sanitizes the HTML (nh3), so it is safe to show as is.
        rendered = render_policy(obj.body).html
        return mark_safe(f'<div class="policy-preview">{rendered}</div>')  # noqa: S308

    @admin.action(
        description=_("Publish the selected drafts"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        published = 0
        for version in queryset.order_by("language", "number"):
            try:
                policy_publish(version=version, by=request.user)
            except ValidationError as error:
                self.message_user(
                    request, f"{version}: {' '.join(error.messages)}", level=messages.ERROR
                )
                continue
            self.log_change(request, version, [{"changed": {"fields": ["status"]}}])
            published += 1
        if published:
            self.message_user(
                request,
                ngettext("%(count)d version published.", "%(count)d versions published.", published)
                % {"count": published},
                level=messages.SUCCESS,
            )

    @admin.action(
        description=_("Start a new draft from the selected version"),
        permissions=["add"],
        location=BOTH_LOCATIONS,
    )
    def draft_from_selected(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one version."), level=messages.WARNING)
            return
        source = queryset.get()
        draft = policy_draft_create(language=source.language, based_on=source)
        self.log_addition(request, draft, [{"added": {}}])
        self.message_user(
            request,
            _("Draft version %(number)s created from version %(source)s.")
            % {"number": draft.number, "source": source.number},
            level=messages.SUCCESS,
        )


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """The outbox, for the DPO to see that every message went out (or why not yet)."""

    list_display = ["created_at", "kind", "to", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "related"]
    date_hierarchy = "created_at"
    actions = ["send_now"]
    readonly_fields = [f.name for f in OutgoingEmail._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Try to send the selected e-mails now"), permissions=["view"])
    def send_now(self, request: HttpRequest, queryset: QuerySet[OutgoingEmail]) -> None:
        results = [email_attempt(pk) for pk in queryset.pending().values_list("pk", flat=True)]
        sent = sum(1 for status in results if status == OutgoingEmail.Status.SENT)
        self.message_user(
            request,
            _("%(sent)d of %(count)d pending e-mail(s) sent.")
            % {"sent": sent, "count": len(results)},
            level=messages.SUCCESS if sent == len(results) else messages.WARNING,
        )


@admin.register(StaffAction)
class StaffActionAdmin(ReadOnlyAdmin):
    """The audit log: who in the staff looked at or changed what, and when.

    Search by user name, or by a person's e-mail address: the term is hashed with the same
    key as the logged searches, so staff searches for that address are found without the
    log ever holding it.
    """

    list_display = [
        "created_at",
        "username",
        "method",
        "operation",
        "model",
        "object_ids",
        "status_code",
        "address",
    ]
    list_filter = ["operation", "model", "method"]
    date_hierarchy = "created_at"
    search_fields = ["username", "object_ids"]
    search_help_text = _(
        "A user name, an object id, or an e-mail address someone searched the admin for."
    )
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            results |= queryset.filter(search_hash=email_hash(search_term))
        return results, duplicates


# Django's own user admin, with an admin log that keeps no staff member's name or address
# (an erased staff account would otherwise stay named in it).
admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class StaffUserAdmin(PersonalDataLogMixin, UserAdmin):
    pass
