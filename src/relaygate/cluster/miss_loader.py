"""One bounded store lookup for what the in-memory catalog does not know (yet).

The catalog learns of a key or model written by another process within one refresh;
a client that creates one and calls at once would otherwise be refused in between.
So a miss is looked up in the store once before it is refused, and that lookup is
bounded three ways, so that a flood of wrong keys (or model names) costs next to
nothing:

- single flight: concurrent misses of one name share one lookup;
- a global bound on lookups at once (``max_concurrent``): past it, a miss is refused
  at once, without a lookup;
- a negative cache: a name the store did not have is refused without a lookup for
  ``negative_ttl`` seconds (or until ``forget()``, called when the catalog is rebuilt),
  remembering at most ``max_negative`` names (least recently refused first out).

A lookup that fails (the store is down) counts as "not found": the call is refused
the way it would have been before this module existed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger("relaygate.catalog")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class MissLoader(Generic[K, V]):
    def __init__(
        self,
        load: Callable[[K], Awaitable[V | None]],
        *,
        max_concurrent: int = 4,
        negative_ttl: float = 2.0,
        max_negative: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._max_concurrent = max_concurrent
        self._negative_ttl = negative_ttl
        self._max_negative = max_negative
        self._clock = clock
        self._in_flight: dict[K, asyncio.Task[V | None]] = {}
        self._negative: OrderedDict[K, float] = OrderedDict()  # name -> when it may be looked up again
        self.lookups = 0  # store lookups started
        self.refused = 0  # misses refused without a lookup because of the bound

    async def get(self, name: K) -> V | None:
        """The value the store holds for ``name``, or None (also when refused without a lookup)."""
        if self._known_missing(name):
            return None
        task = self._in_flight.get(name)
        if task is None:
            if len(self._in_flight) >= self._max_concurrent:
                self.refused += 1
                return None
            self.lookups += 1
            task = self._in_flight[name] = asyncio.get_running_loop().create_task(self._lookup(name))
        # Shielded: a client that hangs up does not cancel the lookup others are waiting for.
        return await asyncio.shield(task)

    def forget(self) -> None:
        """Drop every remembered miss (the catalog was just rebuilt from the store)."""
        self._negative.clear()

    def _known_missing(self, name: K) -> bool:
        until = self._negative.get(name)
        if until is None:
            return False
        if self._clock() < until:
            return True
        del self._negative[name]
        return False

    async def _lookup(self, name: K) -> V | None:
        try:
            value = await self._load(name)
        except Exception as exc:  # the store is down: refuse, as without this lookup
            log.debug("store lookup of a catalog miss failed: %s", type(exc).__name__)
            value = None
        finally:
            del self._in_flight[name]
        if value is None:
            self._remember_missing(name)
        return value

    def _remember_missing(self, name: K) -> None:
        self._negative[name] = self._clock() + self._negative_ttl
        self._negative.move_to_end(name)
        while len(self._negative) > self._max_negative:
            self._negative.popitem(last=False)

    def __len__(self) -> int:
        """Names remembered as missing."""
        return len(self._negative)
