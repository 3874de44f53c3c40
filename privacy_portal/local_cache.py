"""The one per-process cache: a time limit, a size bound and a lock.

Some values are asked for on nearly every request and change rarely: the cookie
configuration, the policy version in force, the hash of a banner's text, a page every new
visitor is shown. Keeping them in this process for a few seconds costs no network round trip
and no unpickling, which the shared cache (Redis) always costs. Every such copy in the
portal goes through `LocalCache`, so each one is bounded in time (a change made in another
process shows within `seconds`), in size (a flood of distinct keys evicts the oldest, never
grows memory), and safe under threaded workers.

Pure functions of the code and settings (a reversed URL, the admin's model prefixes) are
memoised with functools.cache instead: they cannot go stale while the process lives.
"""

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

_MISSING = object()


class LocalCache:
    """A per-process mapping whose entries live `seconds` and of which at most `size` are
    kept (the least recently stored is dropped first)."""

    _instances: "weakref.WeakSet[LocalCache]" = weakref.WeakSet()

    def __init__(self, *, seconds: float, size: int):
        self.seconds = seconds
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        LocalCache._instances.add(self)

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            entry = self._entries.get(key, _MISSING)
            if entry is _MISSING:
                return default
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return default
            return entry[1]

    def set(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self.size:
                self._entries.popitem(last=False)
            self._entries[key] = (time.monotonic() + self.seconds, value)

    def get_or_set(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value for `key`, made (outside the lock) and kept when absent or expired."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = make()
            self.set(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @classmethod
    def clear_all(cls) -> None:
        """Empty every local cache of this process (tests, between two databases)."""
        for instance in list(cls._instances):
            instance.clear()

    def __len__(self) -> int:
        return len(self._entries)
