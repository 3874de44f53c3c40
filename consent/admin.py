"""Cookie declarations (edited by the DPO) and the consent log (read-only evidence)."""

import uuid

from django import forms
from django.contrib import admin
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from privacy_portal.admin_mixins import PersonalDataLogMixin, ReadOnlyAdmin, ReadOnlyInline
from privacy_portal.spreadsheets import csv_writer

from .configuration import configuration_invalidate
from .marketing import MarketingPurpose
from .marketing_exports import AUDIENCE_HEADER, SUPPRESSION_HEADER, audience_rows, suppression_rows
from .models import (
    BannerText,
    ConsentRecord,
    ConsentSeal,
    ConsentSealEntry,
    Cookie,
    CookieCategory,
    MarketingPreference,
    ParentalConsent,
    ParentalConsentEvent,
    PreferenceChange,
    Registration,
)
from .preferences import FIELDS, marketing_preferences_set
from .sealing import RECORD_FIELDS

# The categories the banner, Consent Mode and GPC rely on: they can be edited, not removed.
BUILT_IN_CATEGORIES = {"necessary", "preferences", "analytics", "marketing"}


class DeclarationAdmin(admin.ModelAdmin):
    """A change to any declaration changes the configuration revision: visitors are asked
    again about the categories concerned. The cached configuration is dropped at once."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        configuration_invalidate()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        configuration_invalidate()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        configuration_invalidate()


class CookieInline(admin.TabularInline):
    model = Cookie
    extra = 0
    fields = ["name", "provider", "purpose", "duration", "provider_de", "purpose_de", "duration_de"]


@admin.register(CookieCategory)
class CookieCategoryAdmin(DeclarationAdmin):
    list_display = ["name", "slug", "is_necessary", "order", "cookie_count"]
    list_editable = ["order"]
    search_fields = ["name", "slug", "description"]
    inlines = [CookieInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(cookie_total=Count("cookies"))

    @admin.display(description=_("cookies"), ordering="cookie_total")
    def cookie_count(self, obj: CookieCategory) -> int:
        return obj.cookie_total

    def get_readonly_fields(self, request, obj=None):
        return ["slug", "is_necessary"] if obj and obj.slug in BUILT_IN_CATEGORIES else []

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.slug in BUILT_IN_CATEGORIES:
            return False
        return super().has_delete_permission(request, obj)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        configuration_invalidate()


@admin.register(Cookie)
class CookieAdmin(DeclarationAdmin):
    list_display = ["name", "provider", "category", "duration"]
    list_filter = ["category"]
    list_select_related = ["category"]
    search_fields = ["name", "provider", "purpose"]


class SealedFilter(admin.SimpleListFilter):
    title = _("sealed")
    parameter_name = "sealed"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(is_sealed=True)
        if self.value() == "no":
            return queryset.filter(is_sealed=False)
        return queryset


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "consent_id",
        "action",
        "granted",
        "policy_version",
        "config_revision",
        "gpc",
        "sealed",
    ]
    list_filter = ["action", "gpc", SealedFilter, "language", "policy_version", "created_at"]
    search_fields = ["=consent_id", "=receipt_id"]
    date_hierarchy = "created_at"
    actions = ["export_csv"]
    show_full_result_count = False

    def get_queryset(self, request):
        sealed = Exists(ConsentSealEntry.objects.filter(record_id=OuterRef("pk")))
        return super().get_queryset(request).annotate(is_sealed=sealed)

    def get_search_results(self, request, queryset, search_term):
        # Consent ids are UUIDs: a term that is not one matches nothing (instead of a 500).
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            value = uuid.UUID(term)
        except ValueError:
            return queryset.none(), False
        return queryset.filter(consent_id=value) | queryset.filter(receipt_id=value), False

    @admin.display(description=_("granted"))
    def granted(self, record: ConsentRecord) -> str:
        return ", ".join(slug for slug, on in sorted(record.states.items()) if on) or "—"

    @admin.display(description=_("sealed"), boolean=True, ordering="is_sealed")
    def sealed(self, record: ConsentRecord) -> bool:
        return record.is_sealed

    @admin.action(description=_("Export the selected records as CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[ConsentRecord]) -> HttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="consent-log-{stamp}.csv"'
        writer = csv_writer(response)  # the user agent is the visitor's text
        writer.writerow(RECORD_FIELDS)
        for record in queryset.order_by("created_at", "id").iterator(chunk_size=2000):
            row = []
            for name in RECORD_FIELDS:
                value = getattr(record, name)
                if name == "states":
                    value = ";".join(
                        f"{k}={'on' if v else 'off'}" for k, v in sorted(value.items())
                    )
                row.append(value)
            writer.writerow(row)
        return response


@admin.register(ConsentSeal)
class ConsentSealAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "created_at", "cutoff", "record_count", "chain_sha256", "purged_at"]
    date_hierarchy = "created_at"


@admin.register(BannerText)
class BannerTextAdmin(ReadOnlyAdmin):
    list_display = ["sha256", "language", "first_shown_at"]
    list_filter = ["language"]
    search_fields = ["=sha256", "text"]


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    """Registrations, for the DPO to see (changes go through the subject view of a request)."""

    list_display = ["created_at", "name", "status", "is_child", "country"]
    list_filter = ["status", "is_child", "country"]
    search_fields = ["=email", "=parent_email", "name"]
    date_hierarchy = "created_at"
    exclude = ["parental_consent"]


class ParentalConsentEventInline(ReadOnlyInline):
    model = ParentalConsentEvent
    fields = ["at", "state"]


class ParentalStateFilter(admin.SimpleListFilter):
    """By the latest event: e.g. the parents who have not answered yet (the dashboard
    links here)."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return ParentalConsentEvent.State.choices

    def queryset(self, request, queryset):
        if self.value() in ParentalConsentEvent.State.values:
            return queryset.filter(current_state=self.value())
        return queryset


@admin.register(ParentalConsent)
class ParentalConsentAdmin(ReadOnlyAdmin):
    """Evidence of each parental consent: state, method and times, never the child's data."""

    list_display = ["reference", "country", "state", "method", "requested_at"]
    list_filter = [ParentalStateFilter, "country", "method"]
    search_fields = ["=reference"]
    date_hierarchy = "requested_at"
    inlines = [ParentalConsentEventInline]
    exclude = ["parent_email_hash"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_state()

    def get_search_results(self, request, queryset, search_term):
        try:
            value = uuid.UUID(search_term.strip())
        except ValueError:
            return (queryset.none() if search_term.strip() else queryset), False
        return queryset.filter(reference=value), False

    @admin.display(description=_("state"), ordering="current_state")
    def state(self, consent: ParentalConsent) -> str:
        return (
            ParentalConsentEvent.State(consent.current_state).label
            if consent.current_state
            else "—"
        )


TRI_STATE = [("", _("Not chosen (default applies)")), ("yes", _("Yes")), ("no", _("No"))]
TO_VALUE = {"": None, "yes": True, "no": False}
FROM_VALUE = {None: "", True: "yes", False: "no"}


class MarketingPreferenceForm(forms.ModelForm):
    """Staff toggle choices; every change needs a reason, kept in the history."""

    reason = forms.CharField(
        label=_("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required. Kept in the history with your name."),
    )

    class Meta:
        model = MarketingPreference
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for purpose, field in FIELDS.items():
            self.fields[field] = forms.ChoiceField(
                label=purpose.label,
                choices=TRI_STATE,
                required=False,
                initial=FROM_VALUE[getattr(self.instance, field)],
            )
        self.order_fields([*FIELDS.values(), "reason"])

    def clean(self):
        cleaned = super().clean()
        if self.instance.erased_at and any(value is not False for value in self.changes().values()):
            raise forms.ValidationError(
                _("This person was erased: they stay on the suppression list.")
            )
        return cleaned

    def changes(self) -> dict[str, bool | None]:
        return {
            purpose.value: TO_VALUE[self.cleaned_data[field]]
            for purpose, field in FIELDS.items()
            if field in self.changed_data
        }


class PreferenceChangeInline(ReadOnlyInline):
    model = PreferenceChange
    fields = ["at", "purpose", "old", "new", "actor", "staff_user", "reason"]
    ordering = ["-at", "-id"]


def _csv_response(name: str, header: list[str], rows) -> HttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    writer = csv_writer(response)  # names and addresses are what registrants typed
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _audience_action(purpose):
    def export(modeladmin, request, queryset):
        return _csv_response(
            f"audience-{purpose.value}", AUDIENCE_HEADER, audience_rows(purpose.value)
        )

    export.__name__ = f"export_audience_{purpose.value}"
    # Lazy: built at import time, shown in the language of each admin page.
    description = lazy(
        lambda: (
            gettext("Export the whole audience for “%(purpose)s” (CSV)")
            % {"purpose": purpose.label}
        ),
        str,
    )()
    return admin.action(description=description, permissions=["view"])(export)


@admin.register(MarketingPreference)
class MarketingPreferenceAdmin(PersonalDataLogMixin, admin.ModelAdmin):
    """Marketing staff see and toggle choices (with a reason) and export the lists. The
    actions export whole lists: select any row (or all) to run them."""

    form = MarketingPreferenceForm
    list_display = ["__str__", "name", *FIELDS.values(), "updated_at"]
    list_filter = [*FIELDS.values(), ("erased_at", admin.EmptyFieldListFilter)]
    search_fields = ["=email", "=email_hash", "name"]
    readonly_fields = ["email", "name", "language", "updated_at", "erased_at"]
    inlines = [PreferenceChangeInline]
    actions = [
        "export_suppression",
        *[_audience_action(purpose) for purpose in MarketingPurpose],
    ]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["email", "name", "language", "updated_at", "erased_at"]}),
            (_("Choices"), {"fields": [*FIELDS.values(), "reason"]}),
        ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, **kwargs):
        # The choices are the form's own fields, written through the service, never
        # straight onto the model.
        return super().get_form(request, obj, **{**kwargs, "fields": []})

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        marketing_preferences_set(
            preference=obj,
            changes=form.changes(),
            actor=PreferenceChange.Actor.STAFF,
            staff_user=request.user,
            reason=form.cleaned_data["reason"],
        )

    def save_formset(self, request, form, formset, change):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description=_("Export the suppression list (CSV)"), permissions=["view"])
    def export_suppression(self, request, queryset):
        return _csv_response("suppression-list", SUPPRESSION_HEADER, suppression_rows())


@admin.register(PreferenceChange)
class PreferenceChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "preference", "purpose", "old", "new", "actor", "staff_user"]
    list_filter = ["actor", "purpose"]
    list_select_related = ["preference", "staff_user"]
    date_hierarchy = "at"
