from django import forms
from django.utils.translation import gettext_lazy as _

from privacy_portal.forms import PublicEmailField

from .marketing import MARKETING_HELP, MarketingPurpose
from .preferences import FIELDS


class PreferencesLinkForm(forms.Form):
    email = PublicEmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("We send a link to your preferences to this address, if we know it."),
    )
    website = forms.CharField(required=False, label=_("Leave this field empty"))


class PreferenceCentreForm(forms.Form):
    """Every purpose, ticked when granted: the person decides each one here."""

    def __init__(self, *args, preference, **kwargs):
        super().__init__(*args, **kwargs)
        for purpose in MarketingPurpose:
            self.fields[purpose.value] = forms.BooleanField(
                label=purpose.label,
                required=False,
                initial=bool(getattr(preference, FIELDS[purpose])),
                help_text=MARKETING_HELP[purpose],
            )

    def choices(self) -> dict[str, bool]:
        return {purpose.value: self.cleaned_data[purpose.value] for purpose in MarketingPurpose}
