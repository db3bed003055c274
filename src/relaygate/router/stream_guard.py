"""Deadlines for streamed upstream answers: the first byte by the attempt's timeout, every
later chunk within the idle timeout. A silent upstream ends with ``TimedOut``, which the
relay turns into an error event (never a silent truncation), or which the policy treats
as a failed attempt while nothing has reached the client yet.

One background task (``StreamWatchdog.run``) sweeps every open stream each ``tick``
and cancels the reading task of one that waited too long, so a stream costs no timer
of its own: one set insertion when it opens, a clock read and two attribute writes per
chunk. Deadlines are therefore kept to within one tick (0.1 s). Only time spent waiting
for the upstream counts: a slow client never makes an upstream look silent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from relaygate.upstream.transport import ConnectFailed, TimedOut, UpstreamResponse


class Watch:
    """The deadlines of one stream, read by the watchdog and updated by the reader."""

    __slots__ = ("_first_deadline", "_idle", "_owner", "fired", "started", "waiting_since")

    def __init__(self, owner: StreamWatchdog, now: float, first_deadline: float, idle: float) -> None:
        self._owner = owner
        self._first_deadline = first_deadline
        self._idle = idle
        self.waiting_since: float | None = now  # the open itself is a wait on the upstream
        self.started = False  # a chunk has come: later waits get the idle limit
        self.fired = False

    def expired(self, now: float) -> bool:
        since = self.waiting_since
        if since is None:
            return False
        return now >= (since + self._idle if self.started else self._first_deadline)

    def timed_out(self, task: asyncio.Task[object]) -> bool:
        """After a CancelledError: was it this watch's doing (and nobody else's)?"""
        return self.fired and task.uncancel() == 0

    def reason(self) -> str:
        if self.started:
            return f"the upstream sent nothing for {self._idle:g} s (stream idle timeout)"
        return "the upstream did not start its answer within the call timeout"

    def close(self) -> None:
        self._owner.forget(self)


class StreamWatchdog:
    def __init__(self, tick: float = 0.1) -> None:
        self._tick = tick
        self._watches: dict[Watch, asyncio.Task[object]] = {}

    def watch(self, limit: float, idle: float) -> Watch:
        """Watch the current task's upstream stream from now on: first byte within ``limit`` s."""
        now = asyncio.get_running_loop().time()
        watch = Watch(self, now, now + limit, idle)
        task = asyncio.current_task()
        if task is None:  # called from a coroutine, always inside a task
            raise RuntimeError("StreamWatchdog.watch() needs a running task")
        self._watches[watch] = task
        return watch

    def forget(self, watch: Watch) -> None:
        self._watches.pop(watch, None)

    @property
    def active(self) -> int:
        return len(self._watches)

    def sweep(self, now: float) -> None:
        for watch, task in list(self._watches.items()):
            if watch.expired(now):
                watch.fired = True
                del self._watches[watch]
                task.cancel()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._tick)
            self.sweep(loop.time())


class GuardedStream:
    """A streamed upstream answer read under its watch (an ``UpstreamResponse`` itself)."""

    def __init__(self, response: UpstreamResponse, watch: Watch) -> None:
        self.status = response.status
        self._response = response
        self._watch = watch
        watch.waiting_since = None  # until someone reads: sending our headers is not upstream time
        self._guarded = self._read_guarded()
        self._first: bytes | None = None

    async def _read_guarded(self) -> AsyncIterator[bytes]:
        watch = self._watch
        loop = asyncio.get_running_loop()
        try:
            watch.waiting_since = loop.time()
            async for chunk in self._response.chunks():
                watch.waiting_since = None
                watch.started = True
                yield chunk
                watch.waiting_since = loop.time()
        except asyncio.CancelledError:
            # Only a cancellation that came while waiting for the upstream lands here.
            task = asyncio.current_task()
            if task is not None and watch.timed_out(task):
                raise TimedOut(watch.reason()) from None
            raise
        finally:
            watch.waiting_since = None

    @property
    def headers(self) -> list[tuple[str, str]]:
        return self._response.headers

    def header(self, name: str) -> str | None:
        return self._response.header(name)

    async def prefetch(self) -> None:
        """Read the first chunk now, so a stream that dies before it can still fail over."""
        try:
            self._first = await anext(self._guarded)
        except StopAsyncIteration:
            raise ConnectFailed("the upstream ended the stream before sending anything") from None

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    def chunks(self) -> AsyncIterator[bytes]:
        return self._guarded if self._first is None else self._after_first(self._first)

    async def _after_first(self, first: bytes) -> AsyncIterator[bytes]:
        self._first = None
        yield first
        async for chunk in self._guarded:
            yield chunk

    async def aclose(self) -> None:
        self._watch.close()
        try:
            await self._guarded.aclose()  # type: ignore[attr-defined]
        finally:
            await self._response.aclose()
