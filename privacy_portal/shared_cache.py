"""The shared cache (Redis), and how the portal carries on while it is away.

In production the cache is Redis (CACHE_URL=redis://...): rendered pages, the version in
force, the cookie configuration, stored banner texts and every rate limit live there. It
is an optimisation and a shared counter, never the record of anything, so its outage must
not fail a request: a decision, a request, a sign-in is saved in the database whether or not
Redis answers. `RedisCache` is Django's Redis backend, set by the settings for a redis://
CACHE_URL, that does so:

- Short socket timeouts (SOCKET_TIMEOUTS, overridable in CACHE_URL): a Redis that refuses
  connections fails at once, one that accepts them and never answers within 0.2 s.
- When Redis fails, the call is answered by a cache in this process's memory instead
  (Django's LocMemCache, at most FALLBACK_MAX_ENTRIES entries, the oldest dropped first):
  pages are rendered and kept per process, and rate limits count per process, so while
  Redis is away a limit is granted once by each process.
- Redis is tried again RETRY_SECONDS after a failure (meanwhile the process's memory answers
  without waiting), so a request pays the timeout at most once per interval and process,
  and a Redis that is back is used again. The process's entries are dropped then: they
  never outlive the outage. Keys deleted while Redis was away (an invalidation after a
  publication) are deleted in Redis then too, so it serves nothing the portal dropped.
- The outage is logged once when a process notices it and once when Redis is back;
  `/healthz` reports it (`shared_cache_reachable`).

Counters (the rate limits) cost one round trip on Redis: `RedisCache.incr_window` adds one
to each of its keys and starts the expiry of a new one in a single Lua script, where
Django's add-then-incr would take three (SET NX, then EXISTS and INCRBY).
`counter_incr` counts the same way in any other cache (add, else incr: no network).
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import caches
from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.utils.functional import cached_property
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Redis answers in well under a millisecond; 0.2 s is ample on a healthy network and keeps a
# hung Redis from holding a request for long.
SOCKET_TIMEOUTS = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}
RETRY_SECONDS = 2.0
FALLBACK_MAX_ENTRIES = 5000
# Deletions kept to replay on Redis when it is back (invalidations are a few keys each).
PENDING_DELETES = 1000


class _Outage:
    """What every thread of this process shares for one Redis: whether it is away, the
    memory that answers meanwhile, and the deletions Redis has not seen."""

    def __init__(self, params: dict[str, Any], location: str):
        self.lock = threading.Lock()
        self.since: float | None = None
        self.retry_at = 0.0
        self.pending_deletes: dict[str, int | None] = {}  # key -> version, oldest first
        options = {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES}
        self.fallback = LocMemCache(f"{__name__}:{location}", {**params, "OPTIONS": options})
        self.fallback.clear()  # a name used before in this process (tests) starts empty

    def away(self) -> bool:
        return self.since is not None and time.monotonic() < self.retry_at


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()

# One more hit on each key; a key that this hit created expires ARGV[1] seconds from now.
# A script runs atomically in Redis: exactly one hit creates a key, and it starts the expiry,
# so no counter is left without one.
INCR_WINDOW_SCRIPT = """
local counts = {}
for index, key in ipairs(KEYS) do
    local count = redis.call('INCR', key)
    if count == 1 then
        redis.call('EXPIRE', key, ARGV[1])
    end
    counts[index] = count
end
return counts
"""


def counter_incr(backend: BaseCache, key: str, *, window: int, version: int | None = None) -> int:
    """Add one to the counter `key` in any Django cache and return it; a counter this hit
    creates expires `window` seconds from now. Add, else incr: both are atomic in Django's
    caches, so two threads counting at once lose no hit."""
    if backend.add(key, 1, window, version=version):
        return 1
    try:
        return backend.incr(key, version=version)
    except ValueError:  # expired between add and incr: this hit opens a new window
        backend.add(key, 1, window, version=version)
        return 1


class RedisCache(django_redis.RedisCache):
    """Django's Redis cache that answers from this process's memory while Redis is away."""

    def __init__(self, server, params: dict[str, Any]):
        options = {**SOCKET_TIMEOUTS, **params.get("OPTIONS", {})}
        super().__init__(server, {**params, "OPTIONS": options})
        location = ",".join(self._servers) + f"#{self.key_prefix}"
        with _outages_lock:
            if location not in _outages:
                _outages[location] = _Outage(params, location)
            self._outage = _outages[location]

    @property
    def fallback(self) -> LocMemCache:
        """The cache that answers in this process while Redis is away."""
        return self._outage.fallback

    def _either(self, name: str, *args, **kwargs):
        """Django's Redis backend's `name`, or the fallback's while Redis is away."""
        return self._redis_or_memory(
            lambda: getattr(super(RedisCache, self), name)(*args, **kwargs),
            lambda memory: getattr(memory, name)(*args, **kwargs),
        )

    def _redis_or_memory(
        self, on_redis: Callable[[], Any], in_memory: Callable[[LocMemCache], Any]
    ):
        """`on_redis()`, or `in_memory(fallback)` while Redis is away."""
        outage = self._outage
        if outage.away():
            return in_memory(outage.fallback)
        try:
            result = on_redis()
        except RedisError as error:
            self._down(error)
            return in_memory(outage.fallback)
        if outage.since is not None:
            self._up()
        return result

    def _down(self, error: RedisError) -> None:
        outage = self._outage
        with outage.lock:
            first = outage.since is None
            now = time.monotonic()
            if first:
                outage.since = now
            outage.retry_at = now + RETRY_SECONDS
        if first:
            logger.error(
                "The shared cache (Redis) is unreachable (%s: %s): this process caches in its "
                "own memory and counts rate limits on its own until it is back; trying again "
                "every %s s.",
                type(error).__name__,
                error,
                RETRY_SECONDS,
            )

    def _up(self) -> None:
        outage = self._outage
        with outage.lock:
            if outage.since is None:
                return
            lasted = time.monotonic() - outage.since
            outage.since = None
            pending = outage.pending_deletes
            outage.pending_deletes = {}
            outage.fallback.clear()
        by_version: dict[int | None, list[str]] = {}
        for key, version in pending.items():
            by_version.setdefault(version, []).append(key)
        try:
            for version, keys in by_version.items():
                super().delete_many(keys, version=version)
        except RedisError as error:  # gone again: keep them for the next time it is back
            with outage.lock:
                outage.pending_deletes = pending | outage.pending_deletes
            self._down(error)
            return
        logger.warning(
            "The shared cache (Redis) is back after %.1f s; %d deletion(s) made meanwhile "
            "applied to it.",
            lasted,
            len(pending),
        )

    def _deleted_while_away(self, keys: list[str], version: int | None) -> None:
        outage = self._outage
        with outage.lock:
            if outage.since is None:
                return
            for key in keys:
                outage.pending_deletes.pop(key, None)
                outage.pending_deletes[key] = version
            while len(outage.pending_deletes) > PENDING_DELETES:
                del outage.pending_deletes[next(iter(outage.pending_deletes))]

    def ping(self) -> bool:
        """Whether Redis answers now (tried even while the process answers from memory)."""
        try:
            self._cache.get_client(write=True).ping()
        except RedisError as error:
            self._down(error)
            return False
        self._up()
        return True

    @cached_property
    def _incr_window_script(self):
        # Sent as EVALSHA; redis-py loads the script once into a Redis that does not know it.
        return self._cache.get_client(write=True).register_script(INCR_WINDOW_SCRIPT)

    def incr_window(
        self, keys: Sequence[str], window: int, version: int | None = None
    ) -> list[int]:
        """Add one to each counter in `keys` and return their counts, in one round trip;
        a counter this hit creates expires `window` seconds from now. The counts are plain
        integers, which `get` reads. While Redis is away the process counts in its memory."""

        def on_redis() -> list[int]:
            made = [self.make_and_validate_key(key, version=version) for key in keys]
            return [int(count) for count in self._incr_window_script(keys=made, args=[window])]

        return self._redis_or_memory(
            on_redis,
            lambda memory: [
                counter_incr(memory, key, window=window, version=version) for key in keys
            ],
        )

    # Django's cache API, each call through _either.
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("add", key, value, timeout, version=version)

    def get(self, key, default=None, version=None):
        return self._either("get", key, default, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("set", key, value, timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("touch", key, timeout, version=version)

    def delete(self, key, version=None):
        deleted = self._either("delete", key, version=version)
        self._deleted_while_away([key], version)
        return deleted

    def get_many(self, keys, version=None):
        return self._either("get_many", keys, version=version)

    def has_key(self, key, version=None):
        return self._either("has_key", key, version=version)

    def incr(self, key, delta=1, version=None):
        return self._either("incr", key, delta, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._either("set_many", data, timeout, version=version)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        self._either("delete_many", keys, version=version)
        self._deleted_while_away(keys, version)

    def clear(self):
        return self._either("clear")


def shared_cache_reachable() -> bool:
    """Whether the default cache answers (what /healthz reports). A cache in the process's
    own memory always does; Redis is asked."""
    ping: Callable[[], bool] | None = getattr(caches["default"], "ping", None)
    return True if ping is None else ping()
