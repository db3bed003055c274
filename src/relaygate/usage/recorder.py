"""The usage writer: a bounded queue drained in batches by one background task.

The request path only appends to a deque (no await, no I/O). The writer stores a batch
when it reaches ``batch_size`` events or ``flush_interval`` seconds have passed,
whichever comes first. When the store fails, the batch goes back to the front and is
retried with backoff. When the queue is full, the oldest event is dropped, counted and
logged, never silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import tables
from relaygate.usage.events import UsageEvent

log = logging.getLogger("relaygate.usage")


class UsageRecorder:
    def __init__(self, engine: AsyncEngine, *, capacity: int, batch_size: int, flush_interval: float) -> None:
        self._engine = engine
        self._capacity = capacity
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._queue: deque[UsageEvent] = deque()
        self._wakeup = asyncio.Event()
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
        backoff = self._flush_interval
        while True:
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
                backoff = min(backoff * 2, 30.0)
                await asyncio.sleep(backoff)

    async def flush(self) -> None:
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
            try:
                async with self._engine.begin() as conn:
                    await conn.execute(insert(tables.usage_events), [event.row() for event in batch])
            except BaseException:
                self._queue.extendleft(reversed(batch))
                raise
            self.written += len(batch)
            self.store_healthy = True
