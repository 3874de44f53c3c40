"""Public forms: a data-subject request and a contact message. Each asks only for what its
purpose needs, and says why (the texts around them come from the register of processing)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from privacy_portal.forms import PublicEmailField

from .models import DataSubjectRequest

KIND_HELP = {
    DataSubjectRequest.Kind.ACCESS: _(
        "A copy of the personal data we hold on you, and how we use it."
    ),
    DataSubjectRequest.Kind.RECTIFICATION: _("Correct data about you that is wrong or incomplete."),
    DataSubjectRequest.Kind.ERASURE: _(
        "Delete your personal data, unless the law obliges us to keep it."
    ),
    DataSubjectRequest.Kind.OBJECTION: _(
        "Stop using your data for direct marketing and market research."
    ),
    DataSubjectRequest.Kind.PORTABILITY: _(
        "Your data in a machine-readable file, to take elsewhere."
    ),
    DataSubjectRequest.Kind.RESTRICTION: _(
        "Keep your data but stop using it while a dispute is settled."
    ),
}


class HoneypotMixin(forms.Form):
    # Hidden from people (and screen readers); bots that fill every field give themselves away.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class RequestForm(HoneypotMixin):
    kind = forms.ChoiceField(
        label=_("What would you like us to do?"),
        choices=DataSubjectRequest.Kind.choices,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(
        label=_("Your name"),
        max_length=128,
        help_text=_("So we can find your data and address you."),
    )
    email = PublicEmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("We send a link to confirm it is yours, then our answer."),
    )
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "For a correction: what is wrong and what is right. Otherwise, optionally, "
            "which data or which of our services your request is about."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("kind") == DataSubjectRequest.Kind.RECTIFICATION
            and not (cleaned.get("details") or "").strip()
        ):
            self.add_error("details", _("Tell us what to correct, and what is right."))
        return cleaned


class ContactForm(HoneypotMixin):
    name = forms.CharField(label=_("Your name"), max_length=128)
    email = PublicEmailField(
        label=_("Your e-mail address"), max_length=254, help_text=_("So we can answer you.")
    )
    message = forms.CharField(
        label=_("Your question or comment"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
