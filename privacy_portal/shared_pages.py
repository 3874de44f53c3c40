"""First visits served like a static file.

Most requests to the public pages come from visitors the portal knows nothing about yet: no
cookie decision, no session. For them a page without a personal-data form (the start page,
the policy, its history, versions and diffs, the cookie page) is the same bytes for everyone
who reads it in the same language with the same Global Privacy Control signal: nothing on it
is per visitor. Its forms carry no CSRF token (the cookie banner, the cookie settings and the
language switch are protected by where a post comes from, privacy_portal.origin) and nothing
on it needs a CSP nonce (the banner's style and module are static files).

- `shared_page`, a view decorator, answers such a visitor `Cache-Control: public` with a
  short s-maxage, so a CDN or a reverse proxy may serve the page, and a visitor with a
  decision or a session `private` (their page shows their own choices). Both get an ETag over
  the bytes and a 304 when they hold it.
- `SharedPageMiddleware` keeps one copy of each public answer per address, language and
  SHARED_PAGE_VARY header in this process for SHARED_PAGE_SECONDS, and answers the next
  new visitor from it before the rest of the middleware and the view run. Redis is no use
  here: its round trip and unpickling cost what rendering the page does.

A copy is dropped when a policy version is published or a cookie declaration changes
(`shared_pages_forget`, at once in the process that made the change, within
SHARED_PAGE_SECONDS in every other one) and never outlives the process, so never the release.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag
from django.utils.translation import get_language_from_request

from .local_cache import LocalCache

# How long a CDN or a reverse proxy may serve a shared page without asking again; browsers
# always ask again (max-age=0, answered 304 while unchanged), so a new version shows at once.
SHARED_MAX_AGE = 60
PUBLIC = f"public, max-age=0, s-maxage={SHARED_MAX_AGE}"
PRIVATE = "private, no-cache"
# This process's copies: at most SHARED_PAGES (a flood of distinct query strings evicts the
# oldest) for SHARED_PAGE_SECONDS, as long as it keeps the cookie configuration and the
# version in force they were rendered from.
SHARED_PAGE_SECONDS = 5
SHARED_PAGES = 256
_pages = LocalCache(seconds=SHARED_PAGE_SECONDS, size=SHARED_PAGES)
# The paths that answered a shared page (a few per policy version): any other request goes
# on without its key being made, so the pages with forms pay nothing for this.
_paths = LocalCache(seconds=24 * 60 * 60, size=4 * SHARED_PAGES)


def shared_pages_forget() -> None:
    """Drop this process's copies (after a publication or a change to the declarations)."""
    _pages.clear()


def visitor_known(request: HttpRequest) -> bool:
    """Whether the request carries a cookie that makes its pages its own: a session, or one
    of SHARED_PAGE_PRIVATE_COOKIES (the cookie decision)."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME in cookies or any(
        name in cookies for name in getattr(settings, "SHARED_PAGE_PRIVATE_COOKIES", ())
    )


def shared_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a page that shows a new visitor nothing of their own as shareable between them.

    The page must depend on nothing but its URL, the language, the SHARED_PAGE_VARY headers
    and, for a known visitor, their cookies (tests/privacy_portal/test_shared_pages.py holds
    every page decorated with this to that).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != HTTPStatus.OK or response.streaming:
            return response
        set_response_etag(response)
        response.headers["Cache-Control"] = PRIVATE if visitor_known(request) else PUBLIC
        patch_vary_headers(response, ["Cookie", *getattr(settings, "SHARED_PAGE_VARY", ())])
        return get_conditional_response(request, etag=response["ETag"], response=response)

    return wrapper


@dataclass(frozen=True)
class SharedPage:
    """A public answer as the inner middleware and the view made it."""

    content: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str

    def answer(self, request: HttpRequest) -> HttpResponse:
        response = HttpResponse(self.content, headers=dict(self.headers))
        if "HTTP_IF_NONE_MATCH" not in request.META:  # not a revalidation
            return response
        return get_conditional_response(request, etag=self.etag, response=response)


def _storable(response: HttpResponse) -> bool:
    return (
        response.status_code == HTTPStatus.OK
        and not response.streaming
        and not response.cookies  # never hand one visitor's cookie to another
        and response.get("Cache-Control") == PUBLIC
        and response.has_header("ETag")
    )


class SharedPageMiddleware:
    """Answer a new visitor's GET from this process's copy of a shared page. Place it first:
    the copy is the answer the whole stack below made (security headers included), and only
    a 200 marked public is kept, so an HTTPS redirect or a static file never is."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.vary = tuple(
            "HTTP_" + header.upper().replace("-", "_")
            for header in getattr(settings, "SHARED_PAGE_VARY", ())
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or visitor_known(request):
            return self.get_response(request)
        key = None
        if _paths.get(request.path):
            key = self._key(request)
            page = _pages.get(key)
            if page is not None:
                return page.answer(request)
        response = self.get_response(request)
        if _storable(response):
            headers = tuple((name, value) for name, value in response.headers.items())
            _pages.set(
                key or self._key(request), SharedPage(response.content, headers, response["ETag"])
            )
            _paths.set(request.path, True)
        return response

    def _key(self, request: HttpRequest) -> tuple:
        return (
            request.scheme,
            request.get_host(),  # refuses a host outside ALLOWED_HOSTS, as Django would
            request.get_full_path(),
            get_language_from_request(request),
            *(request.META.get(header, "") for header in self.vary),
        )
