"""The DPO's request queue in the admin.

Each action on a request calls one service and lands in the request's audit trail. Forms
that need input (extension, rejection, completion, erasure) are small admin views of their
own, linked from the request's page.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from privacy_portal.admin_mixins import PersonalDataLogMixin, ReadOnlyInline
from privacy_portal.forms import posted

from .dates import MAX_EXTENSION_MONTHS
from .models import (
    ContactMessage,
    DataSubjectRequest,
    ErasureItem,
    ErasureNotice,
    LegalHold,
    ProcessingPurpose,
    Recipient,
    RequestEvent,
)
from .registry import data_source, retention_text
from .selectors import subject_items
from .services import (
    request_assign,
    request_complete,
    request_erase,
    request_export_build,
    request_extend,
    request_note_add,
    request_notice_mark,
    request_rectify,
    request_reject,
    request_transition,
)

Status = DataSubjectRequest.Status
BOTH = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("week", _("Due within 7 days"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.overdue(today)
        if self.value() == "week":
            return queryset.open().filter(
                due_date__gte=today, due_date__lte=today + timezone.timedelta(days=7)
            )
        return queryset


class AssigneeFilter(admin.RelatedOnlyFieldListFilter):
    """Staff who have requests assigned, found by one index probe per staff member instead
    of Django's DISTINCT over every request (which grows with the queue's history)."""

    def field_choices(self, field, request, model_admin):
        assigned = model_admin.get_queryset(request).filter(assignee=OuterRef("pk"))
        return field.get_choices(
            include_blank=False,
            limit_choices_to=Q(Exists(assigned)),
            ordering=self.field_admin_ordering(field, request, model_admin),
        )


class RequestEventInline(ReadOnlyInline):
    model = RequestEvent
    fields = ["at", "actor", "action", "from_status", "to_status", "note", "visible_to_requester"]
    verbose_name_plural = _("Audit trail")


class ErasureItemInline(ReadOnlyInline):
    model = ErasureItem
    fields = ["source", "record_type", "record_key", "outcome", "reason", "purpose"]


class ErasureNoticeForm(forms.ModelForm):
    notified = forms.BooleanField(label=_("notified"), required=False)

    class Meta:
        model = ErasureNotice
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notified"].initial = bool(self.instance.notified_at)
        if self.instance.notified_at:
            self.fields["notified"].disabled = True


class ErasureNoticeInline(admin.TabularInline):
    """The Art. 19 checklist: tick each recipient once told about the erasure."""

    model = ErasureNotice
    form = ErasureNoticeForm
    fields = ["recipient", "recipient_contact", "notified", "notified_at", "notified_by"]
    readonly_fields = ["recipient", "recipient_contact", "notified_at", "notified_by"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("contact"))
    def recipient_contact(self, notice: ErasureNotice) -> str:
        return notice.recipient.contact or "—"


class RequestAdminForm(forms.ModelForm):
    note = forms.CharField(
        label=_("Add an internal note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit trail; never shown to the requester."),
    )

    class Meta:
        model = DataSubjectRequest
        fields = ["assignee"]


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(PersonalDataLogMixin, admin.ModelAdmin):
    form = RequestAdminForm
    view_on_site = False
    list_display = [
        "reference",
        "kind",
        "status",
        "verified_at",
        "due_date",
        "days_left",
        "assignee",
    ]
    # The queue keeps every request ever answered: nothing on this page may scan it all.
    # Received dates filter by relative ranges (no query) rather than a date hierarchy,
    # whose year list is a DISTINCT over the whole table; the search matches a whole
    # reference or address (indexed) rather than any part of one (a scan); and the
    # unfiltered total is not counted a second time.
    list_filter = [
        "status",
        "kind",
        OverdueFilter,
        ("verified_at", admin.DateFieldListFilter),
        ("assignee", AssigneeFilter),
    ]
    list_select_related = ["assignee"]
    search_fields = ["=reference", "=email"]
    search_help_text = _("A whole reference (DSR-2026-000123) or e-mail address.")
    show_full_result_count = False
    ordering = ["due_date", "verified_at"]
    inlines = [ErasureNoticeInline, ErasureItemInline, RequestEventInline]
    actions = ["assign_to_me", "start_work", "await_requester", "build_export"]
    readonly_fields = [
        "reference",
        "kind",
        "status",
        "name",
        "email",
        "details",
        "language",
        "policy_version",
        "submitted_at",
        "verified_at",
        "due_date",
        "days_left",
        "original_due_date",
        "extension_reason",
        "closed_at",
        "outcome",
        "export_state",
        "anonymised_at",
        "tools",
    ]
    fieldsets = [
        (
            _("Request"),
            {"fields": ["reference", "kind", "status", "name", "email", "details", "tools"]},
        ),
        (
            _("Deadline"),
            {
                "fields": [
                    "verified_at",
                    "due_date",
                    "days_left",
                    "original_due_date",
                    "extension_reason",
                ]
            },
        ),
        (_("Work"), {"fields": ["assignee", "note"]}),
        (
            _("Outcome"),
            {"fields": ["closed_at", "outcome", "export_state", "anonymised_at"]},
        ),
        (_("Context"), {"fields": ["language", "policy_version", "submitted_at"]}),
    ]

    class Media:
        css = {"all": ["requests_app/admin.css"]}

    def get_queryset(self, request):
        # Unverified requests are not in the queue: nobody has confirmed them yet.
        return super().get_queryset(request).verified()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    # --- Columns -------------------------------------------------------------------------
    @admin.display(description=_("days left"), ordering="due_date")
    def days_left(self, obj: DataSubjectRequest) -> str:
        days = obj.days_left()
        if days is None or not obj.is_open:
            return "—"
        if days < 0:
            return format_html(
                '<strong class="dsr-overdue">{}</strong>',
                _("%(days)d days overdue") % {"days": -days},
            )
        css = "dsr-soon" if days <= 7 else "dsr-ok"
        return format_html('<span class="{}">{}</span>', css, days)

    @admin.display(description=_("access export"))
    def export_state(self, obj: DataSubjectRequest) -> str:
        if not obj.export_file:
            return "—"
        return _("Built %(built)s; the link works until %(expires)s") % {
            "built": obj.export_created_at.strftime("%Y-%m-%d %H:%M"),
            "expires": obj.export_expires_at.strftime("%Y-%m-%d %H:%M"),
        }

    @admin.display(description=_("work on this request"))
    def tools(self, obj: DataSubjectRequest) -> str:
        if obj.pk is None:
            return "—"
        links = [("subject", _("Everything we hold on this person"))]
        if obj.is_open:
            links += [
                ("erase", _("Run erasure…")),
                ("extend", _("Extend the deadline…")),
                ("complete", _("Complete…")),
                ("reject", _("Reject…")),
            ]
        items = [
            format_html(
                '<a class="button" href="{}">{}</a>',
                reverse(f"admin:requests_app_datasubjectrequest_{name}", args=[obj.pk]),
                label,
            )
            for name, label in links
        ]
        return format_html(" ".join(["{}"] * len(items)), *items)

    # --- Saving the form (assignee, note) through the services ---------------------------
    def save_model(self, request, obj, form, change):
        if "assignee" in form.changed_data:
            request_assign(request=obj, assignee=form.cleaned_data["assignee"], by=request.user)
        if form.cleaned_data.get("note"):
            request_note_add(request=obj, note=form.cleaned_data["note"], by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is ErasureNotice:
            for notice_form in formset.forms:
                if (
                    notice_form.cleaned_data.get("notified")
                    and not notice_form.instance.notified_at
                ):
                    request_notice_mark(notice=notice_form.instance, by=request.user)
            # Nothing is saved through the formset itself (the service did the work).
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        super().save_formset(request, form, formset, change)

    def log_change(self, request, obj, message):
        # The request's own audit trail records changes; no second, partial log.
        return None

    # --- Actions -------------------------------------------------------------------------
    def _each(self, request, queryset, work, done_message: str) -> None:
        done = 0
        for obj in queryset:
            try:
                work(obj)
            except ValidationError as error:
                self.message_user(request, f"{obj}: {' '.join(error.messages)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Assign to me"), permissions=["change"], location=BOTH)
    def assign_to_me(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda obj: request_assign(request=obj, assignee=request.user, by=request.user),
            _("%(count)d request(s) assigned to you."),
        )

    @admin.action(description=_("Start work (in progress)"), permissions=["change"], location=BOTH)
    def start_work(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda obj: request_transition(
                request=obj, to_status=Status.IN_PROGRESS, by=request.user
            ),
            _("%(count)d request(s) in progress."),
        )

    @admin.action(description=_("Waiting for the requester"), permissions=["change"], location=BOTH)
    def await_requester(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda obj: request_transition(
                request=obj, to_status=Status.AWAITING_REQUESTER, by=request.user
            ),
            _("%(count)d request(s) waiting for the requester."),
        )

    @admin.action(
        description=_("Build the access export and send the link"),
        permissions=["change"],
        location=BOTH,
    )
    def build_export(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda obj: request_export_build(request=obj, by=request.user),
            _("%(count)d access export(s) built; the requester has the download link."),
        )

    # --- Views with a form of their own ---------------------------------------------------
    def get_urls(self):
        views = {
            "subject": self.subject_view,
            "erase": self.erase_view,
            "extend": self.extend_view,
            "complete": self.complete_view,
            "reject": self.reject_view,
        }
        own = [
            path(f"<int:pk>/{name}/", self.admin_site.admin_view(view), name=self._name(name))
            for name, view in views.items()
        ]
        return own + super().get_urls()

    def _name(self, view: str) -> str:
        return f"requests_app_datasubjectrequest_{view}"

    def _object(self, request, pk: int, *, change: bool) -> DataSubjectRequest:
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        allowed = (
            self.has_change_permission(request, obj)
            if change
            else self.has_view_permission(request, obj)
        )
        if not allowed:
            raise PermissionDenied
        return obj

    def _render(self, request, obj, template: str, context: dict) -> TemplateResponse:
        return TemplateResponse(
            request,
            f"admin/requests_app/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": obj,
                "data_request": obj,
                "title": context.pop("title", str(obj)),
                **context,
            },
        )

    def _back(self, obj) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:requests_app_datasubjectrequest_change", args=[obj.pk])
        )

    def subject_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Everything held on the requester's address, across every registered app; the
        DPO corrects a record here (rectification), each correction audited."""
        obj = self._object(request, pk, change=request.method == "POST")
        if request.method == "POST":
            source = data_source(request.POST.get("source", ""))
            key = request.POST.get("key", "")
            if source is None:
                messages.error(request, _("Unknown data source."))
            else:
                fields = source_rectifiable(source, obj.email, key)
                changes = {f: request.POST.get(f, "") for f in fields if f in request.POST}
                try:
                    request_rectify(
                        request=obj,
                        source_name=source.name,
                        key=key,
                        changes=changes,
                        by=request.user,
                    )
                except (ValidationError, ValueError) as error:
                    messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
                else:
                    messages.success(
                        request, _("The record was corrected; the change is in the audit trail.")
                    )
            return HttpResponseRedirect(request.path)
        groups = subject_items(obj.email) if obj.email else []
        return self._render(
            request,
            obj,
            "subject.html",
            {
                "title": _("Everything we hold on %(email)s")
                % {"email": obj.email or _("(anonymised)")},
                "groups": groups,
                "can_rectify": obj.is_open and self.has_change_permission(request, obj),
            },
        )

    def erase_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self._object(request, pk, change=True)
        if request.method == "POST":
            try:
                result = request_erase(request=obj, by=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            except Exception as error:  # a data source failed: nothing was changed
                messages.error(
                    request,
                    _("The erasure failed and nothing was changed: %(error)s")
                    % {"error": f"{type(error).__name__}: {error}"},
                )
                return self._back(obj)
            else:
                messages.success(
                    request,
                    _(
                        "Erasure done: %(deleted)d deleted, %(anonymised)d anonymised, "
                        "%(retained)d kept; %(notices)d recipient(s) to notify."
                    )
                    % {
                        "deleted": result.erased,
                        "anonymised": result.anonymised,
                        "retained": result.retained,
                        "notices": result.notices,
                    },
                )
            return self._back(obj)
        groups = subject_items(obj.email)
        holds = LegalHold.objects.filter(email__iexact=obj.email, released_at__isnull=True)
        return self._render(
            request,
            obj,
            "erase.html",
            {"title": _("Run erasure"), "groups": groups, "holds": holds},
        )

    def _form_view(self, request, pk, form_class, template, title, apply):
        obj = self._object(request, pk, change=True)
        form = form_class(posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                apply(obj, form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return self._back(obj)
        return self._render(request, obj, template, {"title": title, "form": form})

    def extend_view(self, request, pk):
        def apply(obj, data):
            request_extend(
                request=obj, months=int(data["months"]), reason=data["reason"], by=request.user
            )
            messages.success(request, _("Deadline extended; the requester has been told why."))

        return self._form_view(
            request, pk, ExtendForm, "extend.html", _("Extend the deadline"), apply
        )

    def complete_view(self, request, pk):
        def apply(obj, data):
            request_complete(request=obj, by=request.user, outcome=data["outcome"])
            messages.success(request, _("Request completed; the requester has been told."))

        return self._form_view(
            request, pk, CompleteForm, "complete.html", _("Complete the request"), apply
        )

    def reject_view(self, request, pk):
        def apply(obj, data):
            request_reject(request=obj, reason=data["reason"], by=request.user)
            messages.success(request, _("Request rejected; the requester has been told why."))

        return self._form_view(
            request, pk, RejectForm, "reject.html", _("Reject the request"), apply
        )


def source_rectifiable(source, email: str, key: str) -> tuple[str, ...]:
    for item in source.records(email):
        if item.key == key:
            return item.rectifiable
    return ()


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Extend by"),
        choices=[
            (m, _("%(count)d month(s)") % {"count": m}) for m in range(1, MAX_EXTENSION_MONTHS + 1)
        ],
        coerce=int,
    )
    reason = forms.CharField(
        label=_("Reason (sent to the requester)"), widget=forms.Textarea(attrs={"rows": 4})
    )


class CompleteForm(forms.Form):
    outcome = forms.CharField(
        label=_("What was done (sent to the requester)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the requester)"), widget=forms.Textarea(attrs={"rows": 4})
    )


@admin.register(ContactMessage)
class ContactMessageAdmin(PersonalDataLogMixin, admin.ModelAdmin):
    list_display = ["received_at", "name", "email", "answered"]
    list_filter = ["answered", "language"]
    list_editable = ["answered"]
    search_fields = ["email", "name"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "name",
        "email",
        "message",
        "language",
        "purpose",
        "policy_version",
        "received_at",
    ]
    fields = [*readonly_fields, "answered"]

    def has_add_permission(self, request):
        return False


@admin.register(ProcessingPurpose)
class ProcessingPurposeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "legal_basis", "retention_in_force"]
    list_filter = ["legal_basis"]
    search_fields = ["name", "slug", "description"]
    filter_horizontal = ["recipients"]

    def get_readonly_fields(self, request, obj=None):
        # The apps refer to purposes by identifier: it cannot change once made. Where the
        # code enforces retention periods, the register shows them, not an editable text.
        return ["slug", "retention_in_force"] if obj else ["retention_in_force"]

    def get_exclude(self, request, obj=None):
        if obj is not None and retention_text(obj.slug):
            return ["retention", "retention_de"]
        return super().get_exclude(request, obj)

    @admin.display(description=_("retention (shown to people)"))
    def retention_in_force(self, obj: ProcessingPurpose) -> str:
        return retention_text(obj.slug) or obj.retention

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "contact"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(LegalHold)
class LegalHoldAdmin(PersonalDataLogMixin, admin.ModelAdmin):
    list_display = ["email", "created_at", "created_by", "released_at"]
    list_filter = [("released_at", admin.EmptyFieldListFilter)]
    search_fields = ["email"]
    readonly_fields = ["created_at", "created_by"]
    fields = ["email", "reason", "record_types", "released_at", "created_at", "created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False
