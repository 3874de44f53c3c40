"""System checks for a safe production configuration."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_email_configured(app_configs, **kwargs) -> list[Warning]:
    """Without EMAIL_URL the portal would try an SMTP server on localhost:25 and
    verification mails for data-subject requests would silently go nowhere."""
    if settings.DEBUG or getattr(settings, "EMAIL_URL_CONFIGURED", True):
        return []
    return [
        Warning(
            "EMAIL_URL is not set.",
            hint="Set EMAIL_URL, e.g. smtp+tls://user:password@mail.example.com:587.",
            id="privacy_portal.W001",
        )
    ]
