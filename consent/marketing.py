"""The marketing purposes a person chooses about (SPEC: "Marketing preferences")."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MarketingPurpose(models.TextChoices):
    EMAIL = "email", _("News and offers by e-mail")
    PHONE = "phone", _("Offers by telephone")
    RESEARCH = "research", _("Market research and surveys")
    AFFILIATES = "affiliates", _("Sharing my details with the group's affiliates")
    PARTNERS = "partners", _("Sharing my details with certified partners")


MARKETING_HELP = {
    MarketingPurpose.EMAIL: _("An occasional e-mail about products and offers."),
    MarketingPurpose.PHONE: _("A call about an offer that fits your needs."),
    MarketingPurpose.RESEARCH: _("Invitations to online surveys about our products."),
    MarketingPurpose.AFFILIATES: _("So our affiliates can understand your needs."),
    MarketingPurpose.PARTNERS: _("So a certified partner can answer your enquiry."),
}


def marketing_default() -> bool:
    """Whether a choice starts ticked: never under opt-in (the EU-safe default)."""
    return getattr(settings, "MARKETING_DEFAULT", "opt_in") == "opt_out"
