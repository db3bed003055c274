"""At most N probes per workspace per minute: the probe must not become a way to make
relaygate knock on arbitrary addresses, or to spend a provider key in a loop.

In memory, per process; a fixed one-minute window per workspace.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from relaygate.errors import RateLimited

WINDOW_S = 60.0


class ProbeQuota:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._windows: dict[str, list[float]] = {}  # workspace -> [window start, probes]

    def take(self, workspace_id: str) -> None:
        if self.per_minute <= 0:
            return
        now = self._clock()
        window = self._windows.get(workspace_id)
        if window is None or now - window[0] >= WINDOW_S:
            window = self._windows[workspace_id] = [now, 0.0]
        if window[1] >= self.per_minute:
            wait = max(1, math.ceil(window[0] + WINDOW_S - now))
            raise RateLimited(
                f"This workspace has run {self.per_minute} upstream probes in the last minute "
                f"(RELAYGATE_PROBES_PER_MINUTE); try again in {wait} s.",
                code="probe_rate_limited",
                headers={"Retry-After": str(wait)},
            )
        window[1] += 1
