"""Content Security Policy sources Google Analytics needs (GA4 through gtag.js).

Added to the project's SECURE_CSP only when GA_MEASUREMENT_ID is configured; the page
still makes no request to these hosts until the visitor consents to analytics.
"""

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
