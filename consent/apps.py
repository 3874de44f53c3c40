from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    """Cookie consent and its log, parental consent and marketing preferences."""

    name = "consent"
    verbose_name = _("Consent")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
