from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    """Data-subject requests (access, rectification, erasure, ...) worked by the DPO."""

    name = "requests_app"
    verbose_name = _("Data-subject requests")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
