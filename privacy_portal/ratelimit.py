"""Rate limits shared by every process through the configured cache.

A fixed window per (scope, key): the first hit adds the counter, later hits increment it
atomically (cache.add / cache.incr are atomic in Redis and in the local-memory cache), so
two app servers sharing Redis count together. Keys are hashed: no address is stored.
"""

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest

from consent.visitor import client_ip


def rate_limit_exceeded(scope: str, key: str, *, limit: int, window: int = 3600) -> bool:
    """Count one hit for `key` in `scope`; True once more than `limit` fell in the window."""
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{scope}:{digest}:{int(time.time() // window)}"
    if cache.add(cache_key, 1, window):
        return limit < 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr: this hit opens a new window
        cache.add(cache_key, 1, window)
        count = 1
    return count > limit


def rate_limit_request(
    request: HttpRequest, scope: str, *, per_ip: int, email: str = "", per_email: int = 0
) -> bool:
    """True when this client (or this e-mail address) has posted too often."""
    over = rate_limit_exceeded(f"{scope}:ip", client_ip(request) or "unknown", limit=per_ip)
    if email and per_email:
        over = rate_limit_exceeded(f"{scope}:email", email, limit=per_email) or over
    return over
