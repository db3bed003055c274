"""The usage writer: a bounded queue drained in batches by one background task.

The request path shows the event to the observers (metrics, traces) and appends its
column values to a deque (no await, no I/O): a few microseconds per call, spread over the
calls instead of spent in a burst per batch, which held up whichever call came next. The
writer stores a batch when it reaches ``batch_size`` events or ``flush_interval`` seconds
have passed, whichever comes first, upserting the batch's identities in the same
transaction. When the store fails, the batch goes back to the front and is retried with
backoff.
When the queue is full, the oldest event is dropped, counted and logged, never
silently. ``stop()`` drains the queue completely before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Protocol

from relaygate.usage.events import UsageEvent
from relaygate.usage.rows import Queued, queued
from relaygate.usage.writers import BatchWriter

log = logging.getLogger("relaygate.usage")


class UsageObserver(Protocol):
    def observe(self, event: UsageEvent) -> None: ...


class UsageRecorder:
    def __init__(self, writer: BatchWriter, *, capacity: int, batch_size: int, flush_interval: float) -> None:
        self._writer = writer
        self._capacity = capacity
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._queue: deque[Queued] = deque()
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._observers: list[UsageObserver] = []
        self.enabled = True  # off only to measure what recording costs
        self.dropped = 0
        self.written = 0
        self.store_healthy = True

    @property
    def depth(self) -> int:
        return len(self._queue)

    def add_observer(self, observer: UsageObserver) -> None:
        self._observers.append(observer)

    def record(self, event: UsageEvent) -> None:
        if not self.enabled:
            return
        for observer in self._observers:
            try:
                observer.observe(event)
            except Exception:  # a broken exporter must cost neither the call nor its event
                log.exception("a usage observer failed on event %s", event.id)
        if len(self._queue) >= self._capacity:
            self._queue.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error(
                    "usage queue full (%d events): %d events dropped so far", self._capacity, self.dropped
                )
        self._queue.append(queued(event))
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
            batch = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
            try:
                await self._writer.write(batch)
            except BaseException:
                self._queue.extendleft(reversed(batch))
                raise
            self.written += len(batch)
            self.store_healthy = True
