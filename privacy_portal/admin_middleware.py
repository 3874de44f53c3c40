"""Middleware only the admin needs, run under the admin's URL prefix only.

No public page or form reads who is signed in or shows a message: their views and templates
use neither (the `auth` and `messages` context processors answer an anonymous user and no
messages without the middleware). So a public request gets no `request.user`, no message
storage, no second-factor check and no audit look-up; the admin gets them all, in the same
order as before (the user, then its second factor, then the audit log, then messages).

Django's AuthenticationMiddleware and MessageMiddleware are subclassed rather than moved
into a chain of their own: the admin's system checks (admin.E408, admin.E409) still find
them in MIDDLEWARE, and their place in it keeps its meaning. django-otp's OTPMiddleware
needs no subclass: it wraps `request.user`, and does nothing on a request without one.
"""

from functools import cache

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, reverse


@cache
def _admin_prefix(urlconf: str) -> str | None:
    """The admin index's path within the site (as `path_info` has it: without the script
    name the site is served under); None when the URLconf has no admin."""
    try:
        index = reverse("admin:index", urlconf=urlconf)
    except NoReverseMatch:
        return None
    # reverse() prepends the script prefix it reads now: take it off again.
    return "/" + index.removeprefix(get_script_prefix())


def admin_request(request: HttpRequest) -> bool:
    """Whether this request is for the admin: its path starts with the admin index's.

    A path under the prefix is the admin's whether or not it resolves (its own 404 page
    needs the user too); no admin view can be reached by a path outside it."""
    prefix = _admin_prefix(getattr(request, "urlconf", None) or settings.ROOT_URLCONF)
    return prefix is not None and request.path_info.startswith(prefix)


class AdminAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's `request.user` (lazily read from the session), for the admin only."""

    def process_request(self, request: HttpRequest) -> None:
        if admin_request(request):
            super().process_request(request)


class AdminMessageMiddleware(MessageMiddleware):
    """Django's messages ("... was changed successfully"), for the admin only."""

    def process_request(self, request: HttpRequest) -> None:
        if admin_request(request):
            super().process_request(request)
