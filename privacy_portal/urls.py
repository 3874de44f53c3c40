"""Root URLconf. Public paths are a contract (see SPEC.md, "Public URLs")."""

from django.contrib import admin
from django.urls import include, path, register_converter
from django.views.i18n import set_language

from . import views
from .origin import cross_origin_protected


class VersionNumberConverter:
    """A version number: at most nine digits, so no database integer can overflow."""

    regex = "[0-9]{1,9}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(VersionNumberConverter, "version")

portal_patterns = [
    path("", views.home, name="home"),
    path("privacy/", views.policy, name="policy"),
    path("privacy/history/", views.policy_history, name="policy-history"),
    path("privacy/v/<version:number>/", views.policy_version, name="policy-version"),
    path("privacy/v/<version:number>/diff/", views.policy_diff, name="policy-diff"),
    path("healthz", views.healthz, name="healthz"),
]

urlpatterns = [
    path("", include((portal_patterns, "privacy_portal"))),
    path("", include("consent.urls")),
    path("", include("requests_app.urls")),
    path("", include("consent.registration_urls")),
    path("", include("consent.preferences_urls")),
    path("admin/", admin.site.urls),
    # The footer's language switch posts to Django's set_language view. It is on every
    # page, shared by every new visitor, so it is protected by origin, not by a token.
    path("i18n/setlang/", cross_origin_protected(set_language), name="set_language"),
]

# The database being away is a 503 even when it fails outside a view (see the module).
handler500 = "privacy_portal.middleware.server_error"
