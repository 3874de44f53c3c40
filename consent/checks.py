"""System checks that refuse an insecure production configuration of the consent app.

They are deployment checks (`manage.py check --deploy`, run by every release, see README),
like Django's own security checks, and say nothing while DEBUG is on.
"""

import re

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from . import conf

MIN_HASH_KEY_LENGTH = 32
GA_ID = re.compile(r"^G-[A-Z0-9]{4,20}$")


@register(Tags.security, deploy=True)
def check_hash_key(app_configs, **kwargs) -> list[Error]:
    """The suppression list (and an erased person's trace) is an HMAC of the address. With
    no key of its own it would fall back to SECRET_KEY, and rotating the secret key would
    silently make every opted-out or erased address mailable again."""
    if settings.DEBUG:
        return []
    key = getattr(settings, "PERSONAL_DATA_HASH_KEY", "")
    if not key or key == settings.SECRET_KEY:
        return [
            Error(
                "PERSONAL_DATA_HASH_KEY is not set (the secret of the suppression list's HMAC).",
                hint=(
                    "Set PERSONAL_DATA_HASH_KEY to a long random value, different from "
                    "DJANGO_SECRET_KEY, and keep it for the life of the data."
                ),
                id="consent.E001",
            )
        ]
    if len(key) < MIN_HASH_KEY_LENGTH:
        return [
            Error(
                f"PERSONAL_DATA_HASH_KEY is shorter than {MIN_HASH_KEY_LENGTH} characters.",
                hint="A short key lets anyone holding the list test guessed addresses.",
                id="consent.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_consent_cookie(app_configs, **kwargs) -> list[Error]:
    """The consent cookie carries the visitor's choices and id; over plain HTTP it could be
    read or replaced on the way."""
    if settings.DEBUG or conf.cookie_secure():
        return []
    return [
        Error(
            "The consent cookie is not marked Secure.",
            hint="Keep DJANGO_SECURE_COOKIES on (the default) and serve the site over HTTPS.",
            id="consent.E003",
        )
    ]


@register(Tags.security, deploy=True)
def check_ga_measurement_id(app_configs, **kwargs) -> list[Error]:
    """The id goes into the page's analytics configuration and the CSP decision; anything
    but a Google Analytics 4 id is a mistake (or an injection)."""
    ga_id = conf.ga_measurement_id()
    if not ga_id or GA_ID.match(ga_id):
        return []
    return [
        Error(
            f"GA_MEASUREMENT_ID {ga_id!r} is not a Google Analytics 4 measurement id.",
            hint="It looks like G-XXXXXXXXXX; leave it empty to run without analytics.",
            id="consent.E004",
        )
    ]


CSP_MIDDLEWARE = "consent.csp.AnalyticsCspMiddleware"


@register(Tags.security)
def check_analytics_csp_middleware(app_configs, **kwargs) -> list[Warning]:
    """With analytics configured, the page's CSP must let consented visitors' browsers reach
    Google; without the middleware the policy refuses it for everyone and the tag never
    runs (safe, but not what the site owner asked for)."""
    if not conf.ga_measurement_id() or CSP_MIDDLEWARE in settings.MIDDLEWARE:
        return []
    return [
        Warning(
            "GA_MEASUREMENT_ID is set but the CSP allows Google's hosts to nobody.",
            hint=f"Add {CSP_MIDDLEWARE!r} to MIDDLEWARE, right after Django's "
            "ContentSecurityPolicyMiddleware.",
            id="consent.W001",
        )
    ]
