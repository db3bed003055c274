"""Events counted per key in fixed windows: the auth brake's failures per client address,
the probe quota's probes per workspace.

A key's window opens with its first event and lasts ``window`` seconds; the next event
after that opens a new one at zero. In memory, per process, and bounded: past
``max_keys`` keys, expired windows are dropped, then (all recent) the older half, so a
flood of distinct keys costs a bounded amount of memory and forgets the oldest first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class FixedWindowCounter:
    def __init__(
        self,
        window: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self._max_keys = max_keys
        self._clock = clock
        # key -> (window start, events); in order of window start, oldest first
        self._windows: dict[str, tuple[float, int]] = {}

    def count(self, key: str) -> int:
        """The events of the key's current window (0 when it has none open)."""
        entry = self._windows.get(key)
        if entry is None or self._clock() - entry[0] >= self.window:
            return 0
        return entry[1]

    def add(self, key: str) -> int:
        """Count one event for the key, opening a new window if none is open; the new count."""
        now = self._clock()
        entry = self._windows.get(key)
        if entry is None or now - entry[0] >= self.window:
            self._windows.pop(key, None)  # re-inserted last, keeping the order of window starts
            self._make_room(now)
            entry = (now, 0)
        entry = self._windows[key] = (entry[0], entry[1] + 1)
        return entry[1]

    def retry_after(self, key: str) -> int:
        """Whole seconds, at least 1, until the key's window ends: a ``Retry-After`` value."""
        entry = self._windows.get(key)
        ends_in = 0.0 if entry is None else entry[0] + self.window - self._clock()
        return max(1, math.ceil(ends_in))

    def _make_room(self, now: float) -> None:
        if len(self._windows) < self._max_keys:
            return
        self._windows = {key: entry for key, entry in self._windows.items() if now - entry[0] < self.window}
        if len(self._windows) >= self._max_keys:
            self._windows = dict(list(self._windows.items())[self._max_keys // 2 :])

    def __len__(self) -> int:
        return len(self._windows)
