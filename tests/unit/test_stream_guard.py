"""The stream guard times out a silent upstream, never a slow client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from relaygate.router.stream_guard import GuardedStream, StreamWatchdog
from relaygate.upstream.transport import TimedOut


class ScriptedResponse:
    """An upstream stream whose chunks arrive after the given pauses (seconds)."""

    def __init__(self, pauses: list[float]) -> None:
        self.status = 200
        self.headers = [("content-type", "text/event-stream")]
        self._pauses = pauses
        self.closed = False

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name.lower()), None)

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    async def chunks(self) -> AsyncIterator[bytes]:
        for index, pause in enumerate(self._pauses):
            await asyncio.sleep(pause)
            yield f"data: {index}\n\n".encode()

    async def aclose(self) -> None:
        self.closed = True


async def _consume(stream: GuardedStream, client_pause: float = 0.0) -> list[bytes]:
    received = []
    async for chunk in stream.chunks():
        received.append(chunk)
        await asyncio.sleep(client_pause)
    return received


def _guard(watchdog: StreamWatchdog, pauses: list[float], idle: float, first: float = 5.0) -> GuardedStream:
    return GuardedStream(ScriptedResponse(pauses), watchdog.watch(first, idle))


async def _run_idle_cases() -> None:
    watchdog = StreamWatchdog(tick=0.01)
    sweeper = asyncio.create_task(watchdog.run())
    assert len(await _consume(_guard(watchdog, [0, 0.01, 0.01], idle=0.1))) == 3
    with pytest.raises(TimedOut, match="idle timeout"):
        await _consume(_guard(watchdog, [0, 0.01, 0.3], idle=0.1))
    # A slow client (0.3 s per chunk) is not upstream silence.
    assert len(await _consume(_guard(watchdog, [0, 0, 0], idle=0.1), client_pause=0.3)) == 3
    with pytest.raises(TimedOut, match="call timeout"):
        await _consume(_guard(watchdog, [0.3], idle=5, first=0.1))
    assert watchdog.active == 2  # the streams that ended normally were never closed here
    sweeper.cancel()


async def _run_prefetch_case() -> None:
    watchdog = StreamWatchdog()
    stream = _guard(watchdog, [0, 0.01], idle=1)
    await stream.prefetch()
    assert await stream.read() == b"data: 0\n\ndata: 1\n\n"
    await stream.aclose()
    assert watchdog.active == 0
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


def test_idle_and_first_chunk_limits() -> None:
    asyncio.run(_run_idle_cases())


def test_prefetched_chunk_comes_first() -> None:
    asyncio.run(_run_prefetch_case())
