from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyPortalConfig(AppConfig):
    """The project package doubles as the app holding the versioned privacy policy."""

    name = "privacy_portal"
    verbose_name = _("Privacy policy")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
