"""System checks of the consent app's configuration.

Most refuse an insecure production configuration: they are deployment checks (`manage.py
check --deploy`, run by every release, see README), like Django's own security checks, and
say nothing while DEBUG is on. The others warn, always, about a configuration that breaks the
banner (its CSP) or analytics.
"""

import re
from urllib.parse import urlsplit

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


# The banner's files, as shipped: a site that reuses the consent app keeps a styled,
# working banner only if its Content Security Policy lets the browser load them.
BANNER_FILES = {"style-src": "consent/consent.css", "script-src": "consent/consent.js"}


def _csp_allows(sources: list[str], url: str) -> bool:
    """Whether a CSP source list lets the browser load `url` (a static file's URL, relative
    to the page's origin or absolute)."""
    if "'strict-dynamic'" in sources:  # host sources are ignored: only nonces and hashes
        return False
    parts = urlsplit(url)
    if not parts.netloc:
        return "'self'" in sources or "*" in sources
    origin = f"{parts.scheme}://{parts.netloc}"
    return any(
        source in ("*", f"{parts.scheme}:", origin) or url.startswith(source.rstrip("*"))
        for source in sources
    )


@register(Tags.security)
def check_banner_csp(app_configs, **kwargs) -> list[Warning]:
    """The banner carries no inline style or script (so pages can be shared and the policy
    can forbid both); its stylesheet and module are static files the CSP in force must let
    through, or the banner shows unstyled and its buttons fall back to full page posts."""
    policy = getattr(settings, "SECURE_CSP", None) or {}
    if not policy:
        return []
    warnings = []
    for directive, path in BANNER_FILES.items():
        sources = policy.get(directive, policy.get("default-src"))
        if sources is None:
            continue
        url = f"{settings.STATIC_URL}{path}"
        if not _csp_allows([str(source) for source in sources], url):
            warnings.append(
                Warning(
                    f"The Content Security Policy's {directive} blocks the cookie banner's "
                    f"{path} ({url}).",
                    hint=f"Allow the static files' origin in SECURE_CSP[{directive!r}] "
                    "(CSP.SELF when they are served by the site itself).",
                    id="consent.W002",
                )
            )
    return warnings


@register()
def check_shared_pages(app_configs, **kwargs) -> list[Warning]:
    """The cookie page (consent:cookies) is a shared page (privacy_portal.shared_pages): the
    same bytes for every visitor who has not decided, `Cache-Control: public`. A visitor's
    decision and their Global Privacy Control signal change it, so the project must name the
    consent cookie and the GPC header, or a decided visitor's page is marked public."""
    private = getattr(settings, "SHARED_PAGE_PRIVATE_COOKIES", ())
    vary = {header.lower() for header in getattr(settings, "SHARED_PAGE_VARY", ())}
    if conf.get("CONSENT_COOKIE_NAME") in private and "sec-gpc" in vary:
        return []
    return [
        Warning(
            "The cookie page would be shared between visitors whose banners differ.",
            hint="Add CONSENT_COOKIE_NAME to SHARED_PAGE_PRIVATE_COOKIES and 'Sec-GPC' to "
            "SHARED_PAGE_VARY in the settings.",
            id="consent.W003",
        )
    ]
