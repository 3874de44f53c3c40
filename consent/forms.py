"""Validation of a cookie decision, posted by the banner's form or its module (JSON)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .banner import SCOPE_ALL, SCOPE_PROMPT
from .configuration import Configuration
from .models import ConsentRecord


class ConsentChoiceForm(forms.Form):
    action = forms.ChoiceField(
        label=_("action"),
        choices=ConsentRecord.Action.choices,
        error_messages={"invalid_choice": _("Unknown action %(value)s.")},
    )
    categories = forms.MultipleChoiceField(
        label=_("categories"),
        required=False,
        error_messages={"invalid_choice": _("Unknown cookie category %(value)s.")},
    )
    scope = forms.ChoiceField(
        label=_("scope"),
        required=False,
        choices=[(SCOPE_PROMPT, SCOPE_PROMPT), (SCOPE_ALL, SCOPE_ALL)],
    )
    revision = forms.CharField(label=_("configuration revision"), required=False, max_length=16)
    next = forms.CharField(label=_("return address"), required=False, max_length=2000)

    def __init__(self, *args, configuration: Configuration, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration = configuration
        self.fields["categories"].choices = [(slug, slug) for slug in sorted(configuration.slugs)]

    def clean_scope(self) -> str:
        return self.cleaned_data["scope"] or SCOPE_ALL

    def clean_revision(self) -> str:
        revision = self.cleaned_data["revision"]
        if revision and revision != self.configuration.revision:
            raise forms.ValidationError(
                _(
                    "The cookie settings changed while you were choosing. "
                    "Nothing was saved; please review them and choose again."
                ),
                code="stale",
            )
        return revision
