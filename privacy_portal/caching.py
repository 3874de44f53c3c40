"""Validators and fragment caching for the policy pages.

Policy pages are read far more often than they change, and a published version never
changes. So a page's ETag is derived from what it shows (the versions' fingerprints) plus
everything else that could change its HTML (release, settings, language, and the visitor's
own cookie decision, CSRF cookie and Global Privacy Control signal, which shape the banner);
a repeated request with that ETag is answered 304, and the rendered policy HTML is kept in
the cache under the same fingerprint, so a warm request costs the one query that finds the
version.
"""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.translation import get_language

from .rendering import RenderedPolicy, render_policy

RENDER_CACHE_SECONDS = 24 * 60 * 60


# What a visitor sends that changes the page around the policy (the consent banner).
VARY_COOKIES = ("CSRF_COOKIE_NAME", "CONSENT_COOKIE_NAME")
VARY_HEADERS = ("Sec-GPC",)


def visitor_parts(request: HttpRequest) -> list[str]:
    names = [getattr(settings, name, "") for name in VARY_COOKIES]
    cookies = [request.COOKIES.get(name, "") for name in names if name]
    return cookies + [request.headers.get(header, "") for header in VARY_HEADERS]


def page_etag(*parts: object) -> str:
    """A strong ETag over the page's own parts and everything global that shapes HTML."""
    material = [
        settings.PORTAL_RELEASE,
        settings.PORTAL_COMPANY_NAME,
        settings.DPO_EMAIL,
        settings.GA_MEASUREMENT_ID,
        get_language() or "",
        *map(str, parts),
    ]
    digest = hashlib.sha256("\x1f".join(material).encode()).hexdigest()[:32]
    return f'"{digest}"'


def conditional_page(
    request: HttpRequest, etag: str, render: Callable[[], HttpResponse]
) -> HttpResponse:
    """Answer 304 when the client holds `etag`, else render and attach the validators."""
    etag = page_etag(etag, *visitor_parts(request))
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        # The browser reuses the body it holds, whose nonces belong to the CSP header it
        # received with it; a 304 must not replace that header with one for new nonces.
        not_modified._csp_config = {}
        not_modified._csp_ro_config = {}
        response = not_modified
    else:
        response = render()
    response.headers["ETag"] = etag
    # Browsers may keep the page but must ask again each time: a new version shows at once.
    patch_cache_control(response, no_cache=True)
    patch_vary_headers(response, ["Cookie", *VARY_HEADERS])
    return response


def rendered_policy(*, body_sha256: str, load_body: Callable[[], str]) -> RenderedPolicy:
    """The rendered HTML of a published body, cached by the body's fingerprint."""
    key = "policy-html:" + page_etag(body_sha256).strip('"')
    rendered = cache.get(key)
    if rendered is None:
        rendered = render_policy(load_body())
        cache.set(key, rendered, RENDER_CACHE_SECONDS)
    return rendered
