"""The registration form and the steps of the parental-consent flow.

Every field says why it is asked. The date of birth is asked of everyone, the same way,
with no hint of any age limit.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from privacy_portal.forms import PublicEmailField

from .marketing import MARKETING_HELP, MarketingPurpose, marketing_default

INTERESTS = [
    ("products", _("Product news")),
    ("events", _("Events and webinars")),
    ("offers", _("Offers")),
    ("stories", _("Customer stories")),
]


class DateInput(forms.DateInput):
    input_type = "date"


class HoneypotMixin(forms.Form):
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class RegistrationForm(HoneypotMixin):
    name = forms.CharField(
        label=_("Your name"), max_length=128, help_text=_("So we can address you.")
    )
    email = PublicEmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("To confirm it is you, and to send what you choose below."),
    )
    country = forms.ChoiceField(
        label=_("Country where you live"),
        # A callable: country names in the language of each request, not of start-up.
        choices=lambda: [("", "—"), *countries],
        help_text=_("The rules that protect your data depend on it."),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=DateInput(format="%Y-%m-%d"),
        help_text=_("Some rules depend on it. We use it only for that check."),
    )
    interests = forms.MultipleChoiceField(
        label=_("What interests you"),
        required=False,
        choices=INTERESTS,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("So we send only what you want to read."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for purpose in MarketingPurpose:
            self.fields[f"marketing_{purpose.value}"] = forms.BooleanField(
                label=purpose.label,
                required=False,
                initial=marketing_default(),
                help_text=MARKETING_HELP[purpose],
            )

    @property
    def marketing_fields(self):
        return [self[f"marketing_{purpose.value}"] for purpose in MarketingPurpose]

    def marketing_choices(self) -> dict[str, bool]:
        return {
            p.value: bool(self.cleaned_data.get(f"marketing_{p.value}")) for p in MarketingPurpose
        }

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today or born.year < today.year - 120:
            raise forms.ValidationError(_("Please enter your real date of birth."))
        return born


class ParentEmailForm(HoneypotMixin):
    parent_email = PublicEmailField(
        label=_("Your parent's or guardian's e-mail address"),
        max_length=254,
        help_text=_("We write to them only to ask for their agreement."),
    )


class ParentDecisionForm(forms.Form):
    is_guardian = forms.BooleanField(
        label=_("I am this child's parent or legal guardian."), required=False
    )


class OwnConsentForm(forms.Form):
    email = PublicEmailField(
        label=_("Your own e-mail address"),
        max_length=254,
        help_text=_("Your registration moves to this address once you confirm it."),
    )
