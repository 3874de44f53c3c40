"""The one per-process cache (privacy_portal/local_cache.py)."""

import threading
import time

from privacy_portal.local_cache import LocalCache


def test_an_entry_lives_its_seconds_then_is_made_again():
    cache = LocalCache(seconds=0.05, size=4)
    made = []

    def make():
        made.append(1)
        return len(made)

    assert cache.get_or_set("k", make) == 1
    assert cache.get_or_set("k", make) == 1
    time.sleep(0.06)
    assert cache.get_or_set("k", make) == 2


def test_none_is_a_value_kept_like_any_other():
    cache = LocalCache(seconds=60, size=4)
    cache.get_or_set("version in force", lambda: None)

    assert cache.get_or_set("version in force", lambda: "asked again") is None


def test_the_oldest_entry_goes_when_the_cache_is_full():
    cache = LocalCache(seconds=60, size=3)
    for key in "abcd":
        cache.set(key, key.upper())

    assert len(cache) == 3
    assert cache.get("a") is None
    assert [cache.get(key) for key in "bcd"] == ["B", "C", "D"]


def test_threads_storing_at_once_keep_the_bound():
    cache = LocalCache(seconds=60, size=50)

    def store(offset: int) -> None:
        for number in range(2000):
            cache.set((offset, number), number)
            cache.get((offset, number - 1))

    threads = [threading.Thread(target=store, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(cache) == 50


def test_clear_all_empties_every_local_cache():
    first, second = LocalCache(seconds=60, size=2), LocalCache(seconds=60, size=2)
    first.set("a", 1)
    second.set("b", 2)

    LocalCache.clear_all()

    assert len(first) == len(second) == 0
