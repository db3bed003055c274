"""A short-lived, per-process cache of search results, per workspace and query.

An agent often asks the same thing twice within a minute (two calls of one run, a retry);
a cached answer costs no backend call, no latency and no per-search fee. Entries live for
the backend's ``cache_ttl_s`` (0: never cached) and the cache holds a bounded number of
them, the oldest going first. The key holds everything the results depend on: the
backend as configured (its workspace, address and key: a reconfigured backend starts
afresh), the query text, the result count, the allowed domains and the location.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable

from .config import SearchBackend, SearchQuery
from .results import SearchResult

MAX_ENTRIES = 4096

CacheKey = tuple[Hashable, ...]


def cache_key(backend: SearchBackend, query: SearchQuery) -> CacheKey:
    # The whole backend (frozen, so hashable): any change to it, its key too, starts afresh.
    return (backend, query)


class ResultCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._entries: OrderedDict[CacheKey, tuple[float, tuple[SearchResult, ...]]] = OrderedDict()

    def get(self, key: CacheKey) -> tuple[SearchResult, ...] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, results = entry
        if expires <= time.monotonic():
            del self._entries[key]
            return None
        return results

    def put(self, key: CacheKey, results: tuple[SearchResult, ...], ttl_s: int) -> None:
        if ttl_s <= 0:
            return
        self._entries.pop(key, None)
        self._entries[key] = (time.monotonic() + ttl_s, results)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
