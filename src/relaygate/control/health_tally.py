"""Per-model, per-minute tallies of router calls, counted where usage events are already
handled: a usage observer (``usage/recorder.py`` shows it each event once, off the request
path, as it does ``/metrics``' counters), a few dict operations per event.

``HealthMonitor`` saves each process's tallies to the store every few seconds
(``store.model_health.save_minutes``: one row per process, model and minute), so every
process sharing the store reads the same windows. Reading the usage events themselves
instead would have needed an index on them by model: measured on the SQLite writer, it
made storing an event cost about 70 % more.

What counts (``health_rules``): a call is an event of a model not answered from the
cache; a failure is a 5xx other than 501 (the breaker's rule); latency is that of the
calls answered below 400, kept as a histogram of ``LATENCY_BOUNDS``.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relaygate.usage.events import UsageEvent

# Upper bounds (ms) of the latency histogram: 1 ms to 10 min, each 25 % above the last (a
# percentile read from it is the bound of its bucket: at most 25 % above the true value).
LATENCY_BOUNDS: tuple[float, ...] = tuple(round(1.25**step, 1) for step in range(61))
_MINUTE_US = 60_000_000
KEEP_MINUTES = 10


def is_failure(status: int) -> bool:
    """The upstream is unwell: a 5xx other than 501 (timeouts and refused connections included)."""
    return status >= 500 and status != 501


@dataclass(slots=True)
class MinuteTally:
    calls: int = 0
    errors: int = 0
    latency: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS) + 1))
    last_success_us: int | None = None
    last_error_us: int | None = None
    last_error_status: int | None = None
    last_error_code: str | None = None

    def add(self, event: UsageEvent) -> None:
        self.calls += 1
        if is_failure(event.status):
            self.errors += 1
            if self.last_error_us is None or event.created_us >= self.last_error_us:
                self.last_error_us = event.created_us
                self.last_error_status = event.status
                self.last_error_code = event.error_code
        elif event.status < 400:
            self.latency[bisect_left(LATENCY_BOUNDS, event.latency_ms)] += 1
            if self.last_success_us is None or event.created_us > self.last_success_us:
                self.last_success_us = event.created_us


Key = tuple[str, str, int]  # workspace id, router model, minute (since the epoch)


def minute_start(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, UTC)


class HealthTally:
    """The usage observer: this process's tallies not saved yet."""

    def __init__(self) -> None:
        self._minutes: dict[Key, MinuteTally] = {}
        self._changed: set[Key] = set()

    def observe(self, event: UsageEvent) -> None:
        if event.cache_hit or not event.router_model:
            return
        key = (event.workspace_id, event.router_model, event.created_us // _MINUTE_US)
        tally = self._minutes.get(key)
        if tally is None:
            tally = self._minutes[key] = MinuteTally()
        tally.add(event)
        self._changed.add(key)

    def take(self, now_us: int) -> list[tuple[Key, MinuteTally]]:
        """The minutes changed since the last take (their whole tally so far: a minute is saved
        again while it fills); minutes over for ``KEEP_MINUTES`` are then forgotten (an event
        reaches the observers seconds after its call, later only while the store is away)."""
        changed = [(key, self._minutes[key]) for key in self._changed]
        self._changed = set()
        current = now_us // _MINUTE_US
        for key in [key for key in self._minutes if key[2] < current - KEEP_MINUTES]:
            del self._minutes[key]
        return changed


def percentile(histogram: list[int], quantile: float) -> float | None:
    """The bucket bound at ``quantile`` (nearest rank) of a latency histogram; None when empty."""
    total = sum(histogram)
    if total == 0:
        return None
    rank = max(1, math.ceil(quantile * total))
    running = 0
    for index, count in enumerate(histogram):
        running += count
        if running >= rank:
            return LATENCY_BOUNDS[min(index, len(LATENCY_BOUNDS) - 1)]  # beyond the last: said as it
    return None
