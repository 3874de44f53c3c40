"""Validators and fragment caching for the policy pages.

Policy pages are read far more often than they change, and a published version never
changes. So a page's ETag is derived from what it shows (the versions' fingerprints) plus
everything else that could change its HTML (release, settings, language, and the visitor's
own cookie decision, CSRF cookie and Global Privacy Control signal, which shape the banner);
a repeated request with that ETag is answered 304, and the rendered policy HTML is kept in
the cache under the same fingerprint.

Most requests come from visitors who have not decided about cookies yet, and for all of them
a page is the same HTML but for three things: their CSRF token, the CSP nonce and the
return address in the banner's form. Such a page is rendered once with stand-ins for those
three, kept in the shared cache for every process (the stand-ins come from the secret key,
so any process can fill another's rendering) and in this process for a minute, and each
request fills them in: a first visit to a policy page costs a look-up and one pass over the
page, no query and no template rendering.
"""

import hashlib
import re
import threading
import time
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.html import escape
from django.utils.translation import get_language

from consent.banner import banner_page_key

from .rendering import RenderedPolicy, render_policy

RENDER_CACHE_SECONDS = 24 * 60 * 60


# What a visitor sends that changes the page around the policy (the consent banner).
VARY_COOKIES = ("CSRF_COOKIE_NAME", "CONSENT_COOKIE_NAME")
VARY_HEADERS = ("Sec-GPC",)


def visitor_parts(request: HttpRequest) -> list[str]:
    names = [getattr(settings, name, "") for name in VARY_COOKIES]
    cookies = [request.COOKIES.get(name, "") for name in names if name]
    # META, not request.headers: building the headers mapping costs more than the lookup.
    meta = request.META
    return cookies + [meta.get("HTTP_" + h.upper().replace("-", "_"), "") for h in VARY_HEADERS]


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


# A shared page: its HTML cut at the stand-ins, text and stand-in names alternating
# ("<p>...", "csrf_token", "...</p>"), and its content type.
SharedPage = tuple[tuple[str, ...], str]
HOLES = ("csrf_token", "csp_nonce", "consent_next")

# Shared pages this process has used, by the same key as in the cache, for a minute: it
# saves the cache's round trip and unpickling 16 KB on every first visit. The key names
# every input of the HTML, so a copy cannot go stale; the minute is for an operator who
# clears the cache to have pages rendered again. The number of copies is bounded.
LOCAL_PAGES = 64
LOCAL_PAGE_SECONDS = 60
_local_pages: dict[str, tuple[float, SharedPage]] = {}
_local_pages_lock = threading.Lock()  # threaded workers evict and insert concurrently


def _local_page(key: str) -> SharedPage | None:
    local = _local_pages.get(key)
    return local[1] if local is not None and local[0] > time.monotonic() else None


def _local_page_keep(key: str, shared: SharedPage) -> None:
    with _local_pages_lock:
        _local_pages.pop(key, None)
        if len(_local_pages) >= LOCAL_PAGES:
            del _local_pages[next(iter(_local_pages))]  # the oldest
        _local_pages[key] = (time.monotonic() + LOCAL_PAGE_SECONDS, shared)


def shared_pages_forget() -> None:
    """Drop this process's copies of the shared pages (not the cache's)."""
    with _local_pages_lock:
        _local_pages.clear()


@lru_cache(maxsize=4)
def _stand_ins(secret_key: str) -> dict[str, str]:
    """The stand-in rendered in place of each per-visitor part. Derived from the secret key:
    the same in every process sharing the cache (one process's rendering serves them all),
    and no policy text or setting can contain them."""
    return {
        name: "pp"
        + salted_hmac(
            "privacy_portal.caching", name, secret=secret_key, algorithm="sha256"
        ).hexdigest()[:24]
        for name in HOLES
    }


def _cut(html: str, stand_ins: dict[str, str]) -> tuple[str, ...]:
    names = {value: name for name, value in stand_ins.items()}
    pieces = re.split("(" + "|".join(names) + ")", html)
    return tuple(names[piece] if i % 2 else piece for i, piece in enumerate(pieces))


def _shared_page(
    request: HttpRequest, etag: str, render: Callable[[dict], HttpResponse]
) -> HttpResponse:
    """The page for a visitor without a cookie decision or a session: rendered once for
    all of them, with their own token, nonce and return address filled in."""
    banner = banner_page_key(request)
    if banner is None or settings.SESSION_COOKIE_NAME in request.COOKIES:
        return render({})
    stand_ins = _stand_ins(settings.SECRET_KEY)
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    # `etag` already covers the settings and the language (page_etag); the stand-ins are
    # there so processes with different secret keys (a rotation) never share a rendering.
    material = "\x1f".join([etag, banner, request.path, urlconf, *stand_ins.values()])
    key = "shared-page:" + hashlib.sha256(material.encode()).hexdigest()[:32]
    shared = local = _local_page(key)
    if shared is None:
        shared = cache.get(key)
    if shared is None:
        holes = dict(stand_ins)
        if get_nonce(request) is None:  # no CSP middleware: the page has no nonce to fill
            del holes["csp_nonce"]
        response = render(holes)
        if response.status_code != 200 or response.streaming:
            return render({})
        shared = (
            _cut(response.content.decode(response.charset), stand_ins),
            response["Content-Type"],
        )
        cache.set(key, shared, RENDER_CACHE_SECONDS)
    else:
        response = HttpResponse(content_type=shared[1])
    if local is None:
        _local_page_keep(key, shared)
    pieces = shared[0]
    used = pieces[1::2]
    # Generated only where the page uses them, as rendering would (the token sets the CSRF
    # cookie, the nonce goes into the CSP header).
    fills = {"consent_next": escape(request.get_full_path())}
    if "csrf_token" in used:
        fills["csrf_token"] = escape(get_token(request))
    if "csp_nonce" in used:
        fills["csp_nonce"] = escape(str(get_nonce(request)))
    response.content = "".join(fills[p] if i % 2 else p for i, p in enumerate(pieces))
    return response


def conditional_page(
    request: HttpRequest, etag: str, render: Callable[[dict], HttpResponse]
) -> HttpResponse:
    """Answer 304 when the client holds `etag`, else render and attach the validators.

    `render(extra_context)` renders the page; what it shows must depend only on the page's
    own `etag` parts, the settings in page_etag(), the cookie banner and the request's path
    (never on the visitor), since visitors without a decision share one rendering."""
    page = etag
    etag = page_etag(etag, *visitor_parts(request))
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        # The browser reuses the body it holds, whose nonces belong to the CSP header it
        # received with it; a 304 must not replace that header with one for new nonces.
        not_modified._csp_config = {}
        not_modified._csp_ro_config = {}
        response = not_modified
    else:
        response = _shared_page(request, page, render)
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
