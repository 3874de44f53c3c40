"""Rate limits shared by every process through the configured cache.

A fixed window per (scope, key): each hit adds one to the window's counter atomically, so
two app servers sharing Redis (CACHE_URL) count together. On Redis the hits one call counts
cost one round trip (`RedisCache.incr_window`, a Lua script); any other cache counts them
with add and incr in the process (`counter_incr`). Keys are hashed: no address is stored.
While Redis is away each process counts on its own (privacy_portal/shared_cache.py), so a
limit is then granted once per process: a documented trade for not failing requests.

Two layers use it:
- `RateLimitMiddleware` counts every public POST and every request to a page reached by a
  mailed link (a URL with a `token`), per client address and minute, before the view runs:
  a new view is covered without anyone remembering to decorate it.
- Views that accept a submission also count it per hour, per address and per e-mail
  (`rate_limit_request`), so one address cannot be flooded with mail from many networks.

A client is counted under its address (`rate_limit_address`): an IPv4 address as it is, an
IPv6 address by its /64 network, which one subscriber holds whole and can pick any of 2^64
addresses from.
"""

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from consent.visitor import client_ip

from .hashing import email_normalise
from .shared_cache import counter_incr
from .views import wants_json

logger = logging.getLogger("privacy_portal.security")


def _cache_key(scope: str, key: str, window: int, now: float) -> str:
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{window}:{int(now // window)}"


def retry_after(window: int, now: float | None = None) -> int:
    """Seconds until the current window closes (what a 429's Retry-After says)."""
    now = time.time() if now is None else now
    return max(1, math.ceil(window - now % window))


def rate_limit_address(request: HttpRequest) -> str:
    """The address this client is counted under: an IPv4 address as it is (an IPv4-mapped
    IPv6 address is that IPv4 address), an IPv6 address's /64 network."""
    address = client_ip(request) or "unknown"
    if ":" not in address:  # IPv4, the common case, without parsing
        return address
    try:
        parsed = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    if parsed.ipv4_mapped:
        return str(parsed.ipv4_mapped)
    return f"{ipaddress.IPv6Address(int(parsed) >> 64 << 64)}/64"


def rate_limits_exceeded(hits: list[tuple[str, str, int]], *, window: int = 3600) -> bool:
    """Count one hit for each (scope, key, limit), all in one cache round trip; True once
    more than its limit fell in the window for any of them."""
    now = time.time()
    keys = [_cache_key(scope, key, window, now) for scope, key, _limit in hits]
    incr_window = getattr(cache, "incr_window", None)  # the shared Redis: one round trip
    if incr_window is not None:
        counts = incr_window(keys, window)
    else:
        counts = [counter_incr(cache, key, window=window) for key in keys]
    return any(count > limit for count, (_s, _k, limit) in zip(counts, hits, strict=True))


def rate_limit_exceeded(scope: str, key: str, *, limit: int, window: int = 3600) -> bool:
    """Count one hit for `key` in `scope`; True once more than `limit` fell in the window."""
    return rate_limits_exceeded([(scope, key, limit)], window=window)


def rate_limit_count(scope: str, key: str, *, window: int = 3600) -> int:
    """The hits counted so far in the current window, without counting one."""
    return int(cache.get(_cache_key(scope, key, window, time.time())) or 0)


def rate_limit_request(
    request: HttpRequest, scope: str, *, per_ip: int, email: str = "", per_email: int = 0
) -> bool:
    """True when this client (or this e-mail address) has posted too often this hour."""
    hits = [(f"{scope}:ip", rate_limit_address(request), per_ip)]
    if email and per_email:
        # Every spelling of one mailbox counts as that mailbox (privacy_portal.hashing).
        hits.append((f"{scope}:email", email_normalise(email), per_email))
    over = rate_limits_exceeded(hits)
    if over:
        logger.warning("rate limit: %s submissions over the hourly limit", scope)
    return over


def too_many_response(request: HttpRequest, *, window: int = 3600) -> HttpResponse:
    """The 429 page: what happened, that nothing was stored, and when to try again."""
    wait = retry_after(window)
    context = {"minutes": max(1, math.ceil(wait / 60))}
    if wants_json(request):
        response = JsonResponse(
            {"error": _("Too many requests. Nothing was stored; please try again later.")},
            status=HTTPStatus.TOO_MANY_REQUESTS,
        )
    else:
        response = render(request, "429.html", context, status=HTTPStatus.TOO_MANY_REQUESTS)
    response.headers["Retry-After"] = str(wait)
    response.headers["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class Limit:
    scope: str
    per_minute: int


def public_limit(request: HttpRequest) -> Limit | None:
    """Which per-minute limit applies to this request, if any.

    The admin has its own (login failures, see privacy_portal.admin_site); pages without a
    token are free to read. Everything else that writes or opens a mailed link is counted.
    """
    match = request.resolver_match
    if match is None or match.namespace == "admin" or match.app_name == "admin":
        return None
    if match.view_name == "consent:decide":
        return Limit("consent", settings.RATE_LIMIT_CONSENT_PER_MINUTE)
    if match.view_name == "preferences:unsubscribe":
        # One-click unsubscribe is posted by mail providers, many users from few addresses.
        return Limit("unsubscribe", settings.RATE_LIMIT_UNSUBSCRIBE_PER_MINUTE)
    if "token" in match.kwargs:
        return Limit("token", settings.RATE_LIMIT_TOKEN_PER_MINUTE)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        return Limit("post", settings.RATE_LIMIT_POST_PER_MINUTE)
    return None


class RateLimitMiddleware:
    """Answer 429 before the view runs once a client went over its per-minute limit.

    Runs as a view middleware (the URL is resolved by then) and before CSRF, so refused
    attempts are counted too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        limit = public_limit(request)
        if limit is None:
            return None
        address = rate_limit_address(request)
        if rate_limit_exceeded(f"{limit.scope}:minute", address, limit=limit.per_minute, window=60):
            logger.warning(
                "rate limit: %s over %d per minute (%s %s)",
                limit.scope,
                limit.per_minute,
                request.method,
                request.resolver_match.view_name,
            )
            return too_many_response(request, window=60)
        return None
