"""Cross-origin protection without a token, for the forms on pages shared by every visitor.

The cookie banner (and the `/cookies/` settings form, which posts to the same endpoint) and
the footer's language switch sit on public pages that should be the same bytes for every
new visitor, so the page can be rendered once and shared. A per-visitor CSRF token in
those forms would make every page unique. These two endpoints therefore skip Django's token
check and refuse cross-origin requests by the headers browsers send instead: the rule of
Go 1.25's `net/http.CrossOriginProtection` (discussed for Django core in
django/new-features#98):

- GET, HEAD and OPTIONS always pass (they change nothing);
- a `Sec-Fetch-Site` header other than `same-origin` or `none` (a navigation the person
  started: a bookmark, the address bar) is refused;
- without `Sec-Fetch-Site`, an `Origin` header that is not this site's own scheme and host
  is refused, and so is `Origin: null`;
- a request with neither header passes: it comes from a client that is not a browser (it
  could send any header it likes, so a token would not stop it either) or from a browser
  too old to send them;
- an origin listed in `CSRF_TRUSTED_ORIGINS` (exactly, or by Django's
  `https://*.example.com` form, as CsrfViewMiddleware reads it) passes whatever its
  `Sec-Fetch-Site`, as Go's trusted origins do.

What it protects: the consent log must stay forgery-proof. Without it, any web page could
make its visitors' browsers post "accept all" to /consent/ and leave a row in the log that
the person never chose. Every browser in use since 2023 sends `Sec-Fetch-Site`, and an
attacker's page cannot remove or change it, nor the `Origin` header.

Forms that carry personal data (requests, contact, registration, preferences, the admin)
keep Django's token: their pages are per visitor anyway, and they need the stronger check.
"""

import logging
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.urls import get_callable
from django.utils.http import is_same_domain
from django.views.decorators.csrf import csrf_exempt

# Django's logger for CSRF refusals: both kinds of refusal are found in one place.
logger = logging.getLogger("django.security.csrf")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# `none`: a navigation the person started themselves (address bar, bookmark).
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})

REASON_CROSS_SITE = "Sec-Fetch-Site says the request came from another origin"
REASON_NULL_ORIGIN = "Origin is null"
REASON_BAD_ORIGIN = "Origin is neither this site nor a trusted origin"


def origin_trusted(origin: str) -> bool:
    """Whether `origin` is in CSRF_TRUSTED_ORIGINS, read as Django's CsrfViewMiddleware
    reads it: exact origins, and `scheme://*.example.com` for example.com and every
    subdomain under that scheme."""
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in {entry for entry in trusted if "*" not in entry}:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    return any(
        is_same_domain(parsed.netloc, pattern.netloc.lstrip("*"))
        for pattern in (urlsplit(entry) for entry in trusted if "*" in entry)
        if pattern.scheme == parsed.scheme
    )


def origin_own(request: HttpRequest, origin: str) -> bool:
    """Whether `origin` is this site as the request reached it: its scheme (https behind a
    proxy that says so, see SECURE_PROXY_SSL_HEADER) and its host."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return False
    return origin == f"{request.scheme}://{host}"


def cross_origin_refusal(request: HttpRequest) -> str | None:
    """Why `request` must be refused as cross-origin, or None when it may proceed."""
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site in ALLOWED_FETCH_SITES or (origin and origin_trusted(origin)):
            return None
        return REASON_CROSS_SITE
    if origin is None:
        return None  # not a browser, or one too old to say
    if origin == "null":
        return REASON_NULL_ORIGIN
    if origin_own(request, origin) or origin_trusted(origin):
        return None
    return REASON_BAD_ORIGIN


def cross_origin_protected(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Exempt `view` from Django's token check and refuse cross-origin unsafe requests
    instead (see the module). The refusal is the project's CSRF failure answer
    (CSRF_FAILURE_VIEW: a 403 page, or JSON for a script)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        reason = cross_origin_refusal(request)
        if reason is None:
            return view(request, *args, **kwargs)
        # The reason and the path only: no address, header value or cookie of the visitor.
        logger.warning("Forbidden (%s): %s", reason, request.path)
        # Looked up when needed, as Django does: the failure view belongs to the project
        # layer, which this kernel module must not import.
        return get_callable(settings.CSRF_FAILURE_VIEW)(request, reason=reason)

    return csrf_exempt(wrapper)
