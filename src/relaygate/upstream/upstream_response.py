"""An upstream's answer as relaygate reads it: status, headers by name, and a body read whole
or streamed within its bounds (``StreamBounds``: total time and size)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Protocol

from pyreqwest.exceptions import PyreqwestError
from pyreqwest.request import StreamRequest
from pyreqwest.response import Response, ResponseBodyReader

from relaygate.upstream.transport_errors import ResponseTooLarge, TimedOut, translated


class UpstreamResponse(Protocol):
    status: int

    @property
    def headers(self) -> list[tuple[str, str]]: ...

    def header(self, name: str) -> str | None:
        """One header's value (the first, if repeated), by case-insensitive name."""

    async def read(self) -> bytes: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class StreamBounds:
    """Total duration and size of one streamed answer (``RELAYGATE_STREAM_MAX_*``).

    Checked per chunk: a stream that keeps trickling ends here; one that stalls
    completely ends at the read timeout.
    """

    def __init__(self, max_seconds: float = 1800.0, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_seconds = max_seconds
        self.max_bytes = max_bytes

    def start(self) -> _StreamBudget:
        return _StreamBudget(self, time.monotonic() + self.max_seconds)


class _StreamBudget:
    __slots__ = ("_bounds", "_deadline", "_left")

    def __init__(self, bounds: StreamBounds, deadline: float) -> None:
        self._bounds = bounds
        self._deadline = deadline
        self._left = bounds.max_bytes

    def take(self, size: int) -> None:
        self._left -= size
        if self._left < 0:
            raise ResponseTooLarge(f"the stream passed {self._bounds.max_bytes} bytes")
        if time.monotonic() > self._deadline:
            raise TimedOut(f"the stream ran longer than {self._bounds.max_seconds:g} s")


async def read_at_most(reader: ResponseBodyReader, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while (chunk := await reader.read_chunk()) is not None:
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(f"the answer passed {limit} bytes")
        parts.append(bytes(chunk))
    return parts[0] if len(parts) == 1 else b"".join(parts)


class _PyreqwestHeaders:
    """Headers as pyreqwest holds them; turned into Python pairs only when all are asked for
    (most answers need one or two of them, by name).

    pyreqwest raises ValueError for a value that is not visible ASCII (HTTP allows other
    bytes; a hostile or sloppy upstream sends them): such a header is treated as absent,
    never as a failure of the call."""

    def __init__(self, response: Response) -> None:
        self._map = response.headers
        self._pairs: list[tuple[str, str]] | None = None

    @property
    def headers(self) -> list[tuple[str, str]]:
        if self._pairs is None:
            try:
                self._pairs = list(self._map.items())
            except ValueError:
                names = dict.fromkeys(self._map)  # iteration repeats a name per value
                self._pairs = [(name, value) for name in names for value in self._readable(name)]
        return self._pairs

    def _readable(self, name: str) -> list[str]:
        try:
            return self._map.getall(name)
        except ValueError:
            return []

    def header(self, name: str) -> str | None:
        try:
            value = self._map.get(name)
        except ValueError:
            return None
        return value if isinstance(value, str) else None


class WholeBody:
    """The body half of an ``UpstreamResponse`` whose body is already read whole."""

    _body: bytes

    async def read(self) -> bytes:
        return self._body

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self._body

    async def aclose(self) -> None:
        return None


class BufferedResponse(_PyreqwestHeaders, WholeBody):
    """A response whose body pyreqwest already read whole."""

    def __init__(self, response: Response, body: bytes) -> None:
        super().__init__(response)
        self.status = response.status
        self._body = body


class StreamingResponse(_PyreqwestHeaders):
    def __init__(self, request: StreamRequest, response: Response, bounds: StreamBounds) -> None:
        super().__init__(response)
        self._request = request
        self._reader = response.body_reader
        self.status = response.status
        self._closed = False
        self._bounds = bounds

    async def read(self) -> bytes:
        parts = [chunk async for chunk in self.chunks()]
        return b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        limit = self._bounds.start()
        try:
            while True:
                chunk = await self._reader.read_chunk()
                if chunk is None:
                    return
                limit.take(len(chunk))
                yield bytes(chunk)
        except PyreqwestError as exc:
            raise translated(exc) from None

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._request.__aexit__(None, None, None)
