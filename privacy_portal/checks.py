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


@register(Tags.security, deploy=True)
def check_admin_second_factor(app_configs, **kwargs) -> list[Warning]:
    """Staff see everyone's personal data: a stolen password alone must not be enough."""
    if settings.DEBUG or settings.ADMIN_REQUIRE_OTP:
        return []
    return [
        Warning(
            "ADMIN_REQUIRE_OTP is off: staff sign in to the admin with a password alone.",
            hint="Remove ADMIN_REQUIRE_OTP=false and enrol devices with manage.py totp_enroll.",
            id="privacy_portal.W002",
        )
    ]


@register(Tags.security, deploy=True)
def check_shared_cache(app_configs, **kwargs) -> list[Warning]:
    """Rate limits and sign-in throttling count in the cache: a per-process cache lets
    every worker (and every server) grant the full limit again."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.DEBUG or not backend.endswith(("LocMemCache", "DummyCache")):
        return []
    return [
        Warning(
            "The cache is per process, so rate limits are not shared between workers.",
            hint="Set CACHE_URL, e.g. redis://127.0.0.1:6379/0.",
            id="privacy_portal.W003",
        )
    ]


@register(Tags.security, deploy=True)
def check_proxy_declared(app_configs, **kwargs) -> list[Warning]:
    """X-Forwarded-For and X-Forwarded-Proto are trusted only from a declared proxy. Behind
    a proxy nobody declared, every client shares the proxy's address (one rate limit for
    all of them) and the HTTPS redirect answers the requests it forwards over HTTP with a
    redirect to themselves."""
    if settings.DEBUG or getattr(settings, "TRUSTED_PROXIES", 0) is not None:
        return []
    return [
        Warning(
            "No proxy in front of the portal is declared, so X-Forwarded-For and "
            "X-Forwarded-Proto are ignored.",
            hint="Behind a TLS-terminating proxy (the documented deployment) set "
            "DJANGO_TRUSTED_PROXIES to the number of proxies that append to X-Forwarded-For "
            "(usually 1); X-Forwarded-Proto is then taken from the proxy too "
            "(DJANGO_BEHIND_TLS_PROXY=false for one that does not set it). Serving clients "
            "directly, set DJANGO_TRUSTED_PROXIES=0.",
            id="privacy_portal.W004",
        )
    ]
