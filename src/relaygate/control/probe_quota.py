"""At most N probes per workspace per minute: the probe must not become a way to make
relaygate knock on arbitrary addresses, or to spend a provider key in a loop.

In memory, per process; a fixed one-minute window per workspace.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from relaygate.errors import RateLimited
from relaygate.limits.fixed_window import FixedWindowCounter

WINDOW_S = 60.0


class ProbeQuota:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._probes = FixedWindowCounter(WINDOW_S, clock=clock)

    def take(self, workspace_id: str) -> None:
        """Count one probe of the workspace, or raise 429 when its minute's probes are spent."""
        if self.per_minute <= 0:
            return
        if self._probes.count(workspace_id) >= self.per_minute:
            wait = self._probes.retry_after(workspace_id)
            raise RateLimited(
                f"This workspace has run {self.per_minute} upstream probes in the last minute "
                f"(RELAYGATE_PROBES_PER_MINUTE); try again in {wait} s.",
                code="probe_rate_limited",
                headers={"Retry-After": str(wait)},
            )
        self._probes.add(workspace_id)
