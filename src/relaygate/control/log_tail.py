"""The request log's live tail: new calls of a workspace as they are stored, to every
``GET /v2/logs/stream`` of this process at once.

Why the store, polled, and not the usage recorder's hand-over: the router's per-call
cost stays what it is (nothing is added on the request path nor in the recorder), and
the tail sees every process's calls (workers, hosts), which an in-process hook would not.
One poll per second per workspace that has listeners, however many listeners it has
(``LogTail``): each listener applies its own filter to the entries the poll read.

Calls are stored when they end, a flush interval or so after their ``created_at``, and
several processes write: a row may arrive with a time a little before the newest one
already seen. Each poll reads again from ``LOOKBACK`` before the newest time seen and
skips the ids it sent; a poll that fills its page moves on from the page's last row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import request_log
from relaygate.store.records import utcnow

log = logging.getLogger("relaygate.control")

POLL_S = 1.0
PAGE = 500  # rows one poll reads at most
QUEUE = 1000  # entries waiting for a slow listener; past it the oldest go (a note says how many)


@dataclass(eq=False)  # each listener is itself (kept in a set)
class Listener:
    where: request_log.LogFilter
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE))
    dropped: int = 0

    def offer(self, entry: dict[str, Any]) -> None:
        if not self.where.matches(entry):
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(entry)


@dataclass
class _Feed:
    """One workspace's poll and its listeners."""

    since: datetime
    listeners: set[Listener] = field(default_factory=set)
    seen: dict[str, float] = field(default_factory=dict)  # id -> created (seconds)
    newest: float = 0.0
    task: asyncio.Task[None] | None = None


class LogTail:
    def __init__(self, engine: AsyncEngine, *, lookback_s: float, poll_s: float = POLL_S) -> None:
        self._engine = engine
        self._lookback = lookback_s
        self._poll_s = poll_s
        self._feeds: dict[str, _Feed] = {}
        self.polls = 0  # store reads so far (tests: one per second per workspace, not per listener)

    @contextlib.asynccontextmanager
    async def listen(self, where: request_log.LogFilter) -> AsyncIterator[Listener]:
        """A listener of calls recorded from now on, for as long as the block runs."""
        workspace = where.workspace_id
        feed = self._feeds.get(workspace)
        if feed is None:
            feed = self._feeds[workspace] = _Feed(since=utcnow())
            feed.newest = feed.since.timestamp()
            feed.task = asyncio.get_running_loop().create_task(self._poll(workspace, feed))
        listener = Listener(where)
        feed.listeners.add(listener)
        try:
            yield listener
        finally:
            feed.listeners.discard(listener)
            if not feed.listeners and self._feeds.get(workspace) is feed:
                del self._feeds[workspace]
                if feed.task is not None:
                    feed.task.cancel()

    async def _poll(self, workspace: str, feed: _Feed) -> None:
        while True:
            try:
                await self._read(workspace, feed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is down: try again next time
                log.warning("the request log's live tail could not read the store: %s", exc)
            await asyncio.sleep(self._poll_s)

    async def _read(self, workspace: str, feed: _Feed) -> None:
        self.polls += 1
        entries = await request_log.recorded_since(self._engine, workspace, feed.since, PAGE)
        for entry in entries:
            if entry["id"] in feed.seen:
                continue
            feed.seen[entry["id"]] = entry["created"]
            feed.newest = max(feed.newest, entry["created"])
            for listener in list(feed.listeners):
                listener.offer(entry)
        if len(entries) == PAGE:  # behind: go on from the page's end
            floor = entries[-1]["created"]
        else:
            floor = max(feed.since.timestamp(), feed.newest - self._lookback)
        feed.since = datetime.fromtimestamp(floor, UTC)
        feed.seen = {key: created for key, created in feed.seen.items() if created >= floor}


def lookback_for(flush_interval_s: float) -> float:
    """How late a stored call may be behind the newest one seen: two flushes and a second."""
    return 2 * flush_interval_s + 1.0


def entries_after(listener: Listener, heartbeat_s: float, stopping: Callable[[], bool]) -> AsyncIterator[Any]:
    """The listener's entries as they come, ``None`` for a heartbeat when quiet for
    ``heartbeat_s``; ends when the server drains."""

    async def entries() -> AsyncIterator[Any]:
        while not stopping():
            try:
                entry = await asyncio.wait_for(listener.queue.get(), timeout=heartbeat_s)
            except TimeoutError:
                yield None
                continue
            yield entry

    return entries()
