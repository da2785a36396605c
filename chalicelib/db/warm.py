"""Facts read once per warm Lambda: what never changes once written (a
handle's owner, a post's author and price, a conversation's members).

Each cache is bounded and its entries expire (`ttl_s`), so a fact that can
end (a deleted post) is not believed for long; what the cached fact leads
to is still conditioned in the transaction that relies on it (a deleted
post's tombstoned counter shards, a receiver's account being active), so a
stale entry costs a refusal, never a wrong write. Tests clear them all
between tests (`clear_all`), as a fresh stack reuses handles.
"""
import threading

from cachetools import TTLCache

_ALL: list["Warm"] = []


class Warm:
    def __init__(self, max_items: int = 10_000, ttl_s: float = 300):  # float-ok: seconds
        self._cache = TTLCache(max_items, ttl_s)
        self._lock = threading.Lock()  # TTLCache is not thread-safe; tests run requests in threads
        _ALL.append(self)

    def get(self, key, load):
        """The cached value of `key`, else `load(key)` (kept unless None)."""
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = load(key)
        if value is not None:
            with self._lock:
                self._cache[key] = value
        return value

    def forget(self, key) -> None:
        with self._lock:
            self._cache.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def clear_all() -> None:
    for cache in _ALL:
        cache.clear()
