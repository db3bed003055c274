"""The usage writer: a bounded queue drained in batches by one background task.

The request path only appends to a deque (no await, no I/O). The writer stores a batch
when it reaches ``batch_size`` events or ``flush_interval`` seconds have passed,
whichever comes first, upserting the batch's identities in the same transaction.
The writer takes a batch as a stream of slices of ``SLICE`` events: the recorder
shows each event to the observers (metrics, traces) once and reduces it to its column
values, the writer serializes the slice, and the event loop is free in between. While
the writer keeps up, the recorder also waits ``_PAUSE`` between two slices: a request
passes through the loop several times (request read, upstream answer, response
written) and without a pause met a slice at every turn, a millisecond or two on one
unlucky call (bench, c=1: p99 2.45 ms with turns of the loop alone, 1.36 paced, 1.06
without recording). With a full batch already waiting, or when stopping, it does not
pause. Done per call instead, the same work cost about 10 us more CPU per call at
saturation (cold caches on every call; bench, c=64). When the store fails, the batch
goes back to the front and is retried with backoff.
When the queue is full, the oldest event is dropped, counted and logged, never
silently. ``stop()`` drains the queue completely before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, Sequence
from operator import attrgetter
from typing import Any, Protocol

from relaygate.usage.events import COLUMNS, UsageEvent

log = logging.getLogger("relaygate.usage")
_PAUSE = 0.001  # seconds between two slices of a batch, while the writer keeps up

# Events per slice of a batch: what the recorder prepares and the writer serializes in
# one turn of the event loop (about 30 us of work: a request that meets it waits that
# long). Slices of 50 (150 us) took the p99 at c=1 to 0.74 ms where 10 gave 0.62 and
# no recording 0.56 (bench, the store left out to see the router's part alone).
SLICE = 10

Row = tuple[Any, ...]
# What the store needs of an event, plain and picklable: its column values in COLUMNS order,
# created_at as whole microseconds since the Unix epoch (pickling a datetime, its
# ``__reduce__``, cost 0.5-1 us per event on the event loop, about as much as the rest of
# the row; an int is exact and almost free), and the identity profile it carried, if any.
Queued = tuple[Row, dict[str, Any] | None]

_event_values = attrgetter(*COLUMNS[:-1], "created_us")
if COLUMNS[-1] != "created_at":
    raise RuntimeError("queued() reads created_at last, as microseconds: keep it the last column")


def queued(event: UsageEvent) -> Queued:
    """What the store needs of an event (plain values, picklable)."""
    return _event_values(event), event.identity if event.identity_id is not None else None


class BatchWriter(Protocol):
    """Where the batches go: one per kind of store (``store/usage_writers.py``)."""

    async def write(self, batch: AsyncIterable[list[Queued]]) -> None:
        """Stores a batch, given a slice at a time (why: above): all or nothing."""
        ...

    async def close(self) -> None: ...


class UsageObserver(Protocol):
    def observe(self, event: UsageEvent) -> None: ...


class UsageRecorder:
    def __init__(
        self,
        writer: BatchWriter,
        *,
        capacity: int,
        batch_size: int,
        flush_interval: float,
        storing: bool = True,
        observers: Sequence[UsageObserver] = (),
    ) -> None:
        self._writer = writer
        self._capacity = capacity
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._queue: deque[UsageEvent] = deque()
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._observers = tuple(observers)  # metrics, traces
        # Off (RELAYGATE_USAGE_ENABLED=0): events are still shown to the observers, so
        # /metrics and traces see every call, but none is stored.
        self.storing = storing
        self.dropped = 0
        self.written = 0
        self.store_healthy = True

    @property
    def depth(self) -> int:
        return len(self._queue)

    def record(self, event: UsageEvent) -> None:
        if len(self._queue) >= self._capacity:
            self._queue.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error(
                    "usage queue full (%d events): %d events dropped so far", self._capacity, self.dropped
                )
        self._queue.append(event)
        if len(self._queue) >= self._batch_size:
            self._wakeup.set()

    async def run(self) -> None:
        self._task = asyncio.current_task()
        backoff = self._flush_interval
        while not self._stopped():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self._flush_interval)
            self._wakeup.clear()
            try:
                await self.flush()
                backoff = self._flush_interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.store_healthy:
                    log.warning("usage events could not be stored, will retry: %s", exc)
                self.store_healthy = False
                if self._stopped():
                    return
                backoff = min(backoff * 2, 30.0)
                await asyncio.sleep(backoff)

    def _stopped(self) -> bool:
        return self._stopping

    async def stop(self) -> None:
        """Let the writer finish its batch, then drain the queue (graceful shutdown)."""
        self._stopping = True
        self._wakeup.set()
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(task), timeout=30)
        await self.flush()

    async def close(self) -> None:
        """Release the writer (after the last flush)."""
        await self._writer.close()

    async def flush(self) -> None:
        while self._queue:
            events = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
            try:
                async with contextlib.aclosing(self._slices(events)) as slices:
                    if self.storing:
                        await self._writer.write(slices)
                    else:
                        async for _ in slices:
                            pass
            except BaseException:
                self._queue.extendleft(reversed(events))
                raise
            if self.storing:
                self.written += len(events)
            self.store_healthy = True

    async def _slices(self, events: list[UsageEvent]) -> AsyncGenerator[list[Queued]]:
        """The batch's rows, a slice at a time, each event shown to the observers once (a
        batch may be retried)."""
        for start in range(0, len(events), SLICE):
            if start:
                await asyncio.sleep(self._pause())
            part: list[Queued] = []
            storing = self.storing
            for event in events[start : start + SLICE]:
                if not event.observed:
                    event.observed = True
                    self._observe(event)
                if storing:
                    part.append(queued(event))
            yield part

    def _pause(self) -> float:
        return 0.0 if self._stopping or len(self._queue) >= self._batch_size else _PAUSE

    def _observe(self, event: UsageEvent) -> None:
        for observer in self._observers:
            try:
                observer.observe(event)
            except Exception:  # a broken exporter must cost neither a batch nor its events
                log.exception("a usage observer failed on event %s", event.id)
