"""Content Security Policy sources Google Analytics needs (GA4 through gtag.js), and which
visitors' pages may contact them.

The project's SECURE_CSP never lists Google; AnalyticsCspMiddleware adds these sources to a
response's policy when google_allowed() says so for the visitor. Even where they are
allowed, the page makes no request to these hosts until the visitor consents to analytics.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.utils.csp import CSP, build_policy

from . import conf
from .cookies import ConsentState, consent_cookie_read

GOOGLE_ANALYTICS_SOURCES = {
    "script-src": ["https://www.googletagmanager.com"],
    "img-src": ["https://*.google-analytics.com", "https://*.googletagmanager.com"],
    "connect-src": [
        "https://*.google-analytics.com",
        "https://*.analytics.google.com",
        "https://*.googletagmanager.com",
    ],
}


def csp_with_google_analytics(policy: dict) -> dict:
    """A copy of `policy` that also allows Google Analytics' hosts."""
    extended = {directive: list(values) for directive, values in policy.items()}
    for directive, sources in GOOGLE_ANALYTICS_SOURCES.items():
        extended.setdefault(directive, [])
        extended[directive] += [s for s in sources if s not in extended[directive]]
    return extended


def google_allowed(state: ConsentState | None) -> bool:
    """Whether a page for this visitor may contact Google's analytics hosts: analytics is
    configured and the visitor has not refused it.

    Consented visitors need them for the tag. An undecided visitor's page allows them too,
    so that accepting loads the tag at once, without a reload; the page still carries no
    tag and contacts nothing until then. For a visitor who refused or withdrew analytics,
    the browser itself refuses every Google host, whatever script the page may hold; were
    they to accept again, the tag starts on their next page.
    """
    if not conf.ga_measurement_id():
        return False
    return state is None or state.states.get("analytics", True)


class AnalyticsCspMiddleware:
    """Sends, for a visitor for whom google_allowed(), the project's policy with Google's
    analytics hosts added. Place it right after Django's ContentSecurityPolicyMiddleware:
    it answers first, and Django's middleware leaves a policy header a response already has.

    A view that needs a policy of its own sets the Content-Security-Policy header itself
    (left alone here too); one decorated with Django's csp_override gets this policy instead
    of its own on the pages of visitors who may reach Google (the decorator's choice is not
    visible through a public API)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            conf.ga_measurement_id()  # first: without analytics, no cookie is read
            and settings.SECURE_CSP
            and CSP.HEADER_ENFORCE not in response
            and google_allowed(consent_cookie_read(request))
        ):
            policy = csp_with_google_analytics(settings.SECURE_CSP)
            response.headers[str(CSP.HEADER_ENFORCE)] = build_policy(policy, get_nonce(request))
        return response
