from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class PrivacyPortalConfig(AppConfig):
    """The project package doubles as the app holding the versioned privacy policy."""

    default = True
    name = "privacy_portal"
    verbose_name = _("Privacy policy")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the portal's site (second factor, throttled sign-in) as
    `admin.site`, so every app's `@admin.register` lands on it."""

    default = False  # this module's default is PrivacyPortalConfig
    default_site = "privacy_portal.admin_site.PortalAdminSite"
