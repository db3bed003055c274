"""Slowing down key guessing: failed authentications per client address.

Only failures are counted, and only after the key lookup failed, so a valid key never
touches this object and pays nothing. A key the in-memory catalog does not know is
looked up in the store (``catalog.find_principal``) only for a client not braked now
(``check``), so the brake also bounds what guessing costs the store. A client that
sends more than ``limit`` wrong keys within ``window`` seconds gets 429 (with
``Retry-After``) instead of 401 until its window ends. The client address is the peer,
or the ``X-Forwarded-For`` of a trusted proxy (``FORWARDED_ALLOW_IPS``, see
``client_address.py``).

Counts are per process, in memory, and bounded (``max_clients``); with N processes a
client may try N times the limit. Our keys carry 256 random bits, so this is a brake on
noise and credential stuffing, not what keeps keys unguessable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from relaygate.errors import RateLimited
from relaygate.serving.client_address import client_address
from relaygate.types import Scope


class AuthThrottle:
    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._max_clients = max_clients
        self._clock = clock
        self._failures: dict[str, list[float]] = {}  # client -> [window start, count]

    def check(self, scope: Scope) -> None:
        """Raise 429, counting nothing, when one more failure would put the client over its limit."""
        if self.limit <= 0:
            return
        now = self._clock()
        entry = self._failures.get(client_address(scope))
        if entry is not None and now - entry[0] < self.window and entry[1] >= self.limit:
            raise self._braked(entry, now)

    def failed(self, scope: Scope) -> None:
        """Count one failed authentication; raise 429 once the client is over its limit."""
        if self.limit <= 0:
            return
        now = self._clock()
        client = client_address(scope)
        entry = self._failures.get(client)
        if entry is None or now - entry[0] >= self.window:
            self._make_room(now)
            entry = self._failures[client] = [now, 0.0]
        entry[1] += 1
        if entry[1] > self.limit:
            raise self._braked(entry, now)

    def _braked(self, entry: list[float], now: float) -> RateLimited:
        wait = max(1, math.ceil(entry[0] + self.window - now))
        return RateLimited(
            f"Too many failed authentications from your address; try again in {wait} s.",
            code="too_many_failed_authentications",
            headers={"Retry-After": str(wait)},
        )

    def _make_room(self, now: float) -> None:
        if len(self._failures) < self._max_clients:
            return
        self._failures = {
            client: entry for client, entry in self._failures.items() if now - entry[0] < self.window
        }
        if len(self._failures) >= self._max_clients:  # all recent: forget the oldest half
            keep = list(self._failures.items())[self._max_clients // 2 :]
            self._failures = dict(keep)

    def __len__(self) -> int:
        return len(self._failures)
