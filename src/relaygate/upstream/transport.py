"""The one place relaygate's upstream HTTP client lives.

The interface is small on purpose (``send`` and ``aclose``, like httpx's transport), so
the client library can change in one file. Today it is pyreqwest (Rust reqwest): about
half aiohttp's CPU per forwarded request on this machine, see DESIGN.md.

Connections are pooled per upstream origin. Each origin's client is pinned to the
address the SSRF guard checked, re-resolved every ``dns_ttl`` seconds; redirects are
never followed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import DetailedPyreqwestError, PyreqwestError, RequestTimeoutError
from pyreqwest.request import RequestBuilder, StreamRequest
from pyreqwest.response import Response, ResponseBodyReader

from relaygate.upstream.ssrf import Origin, UpstreamGuard

Headers = Sequence[tuple[str, str]]


class TransportError(Exception):
    """The upstream could not be reached or did not answer in time.

    TransportError
     +-- ConnectFailed      (no connection: refused, reset, DNS, TLS)
     +-- TimedOut           (connect, read or total deadline passed)
     +-- ResponseTooLarge   (answer bigger than its bound)
    """


class ConnectFailed(TransportError):
    """``cause``: ``refused``, ``dns``, ``tls``, ``reset``, or ``""`` when not known."""

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause


class TimedOut(TransportError):
    pass


class ResponseTooLarge(TransportError):
    """The upstream's answer passed a size bound (RELAYGATE_MAX_UPSTREAM_BODY_BYTES, _STREAM_MAX_BYTES)."""


class UpstreamResponse(Protocol):
    status: int

    @property
    def headers(self) -> list[tuple[str, str]]: ...

    def header(self, name: str) -> str | None:
        """One header's value (the first, if repeated), by case-insensitive name."""

    async def read(self) -> bytes: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class Transport(Protocol):
    async def send(
        self,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | None,
        *,
        stream: bool,
        total_timeout: float | None = None,
        body_stream: AsyncIterable[bytes] | None = None,
        query: Sequence[tuple[str, str]] | None = None,
    ) -> UpstreamResponse: ...

    async def aclose(self) -> None: ...


# (cause, words in the innermost error that name it), checked in order.
_CONNECT_CAUSES = (
    ("refused", ("connection refused",)),
    ("dns", ("dns error", "lookup address", "name or service not known", "nodename nor servname")),
    ("reset", ("connection reset", "broken pipe")),
    ("tls", ("tls", "ssl", "certificate", "handshake", "corrupt message", "alert")),
)


def _connect_failure(exc: PyreqwestError) -> ConnectFailed:
    found = exc.details.get("causes") if isinstance(exc, DetailedPyreqwestError) else None
    causes = [cause["message"] for cause in found or ()]
    text = " / ".join(causes).lower()
    cause = next((name for name, words in _CONNECT_CAUSES if any(word in text for word in words)), "")
    innermost = causes[-1] if causes else ""
    return ConnectFailed(f"{exc.message}: {innermost}" if innermost else exc.message, cause)


def _translate(exc: PyreqwestError) -> TransportError:
    # pyreqwest's messages name the URL and the OS error, never headers or bodies.
    if isinstance(exc, RequestTimeoutError):
        return TimedOut(exc.message)
    return _connect_failure(exc)


_UNARY_PREREAD = 64 * 1024  # a typical answer arrives whole with the headers


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


class _BufferedResponse(_PyreqwestHeaders, WholeBody):
    """A response whose body pyreqwest already read whole."""

    def __init__(self, response: Response, body: bytes) -> None:
        super().__init__(response)
        self.status = response.status
        self._body = body


class _StreamingResponse(_PyreqwestHeaders):
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
            raise _translate(exc) from None

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._request.__aexit__(None, None, None)


_MAX_REMEMBERED_URLS = 4096


@dataclass
class _Pooled:
    client: Client
    expires_at: float


def client_builder(
    connect_timeout: float, read_timeout: float, user_agent: str = "relaygate"
) -> ClientBuilder:
    """How every upstream client is built: no redirects, no referer, no decompression (the
    bytes pass through as the upstream sent them), bounded connect and read waits."""
    return (
        ClientBuilder()
        .follow_redirects(False)
        .referer(False)
        .gzip(False)
        .brotli(False)
        .zstd(False)
        .deflate(False)
        .connect_timeout(timedelta(seconds=connect_timeout))
        .read_timeout(timedelta(seconds=read_timeout))
        .pool_idle_timeout(timedelta(seconds=90))
        .user_agent(user_agent)
    )


class PyreqwestTransport:
    def __init__(
        self,
        guard: UpstreamGuard,
        *,
        connect_timeout: float,
        read_timeout: float,
        dns_ttl: float = 60.0,
        max_body_bytes: int = 64 * 1024 * 1024,
        stream_bounds: StreamBounds | None = None,
    ) -> None:
        self._guard = guard
        self._max_body = max_body_bytes
        self._stream_bounds = stream_bounds or StreamBounds()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._dns_ttl = dns_ttl
        self._clients: dict[Origin, _Pooled] = {}
        # Clients replaced after a DNS re-check, kept until their in-flight calls are done.
        self._retired: list[tuple[float, Client]] = []
        self._origins: dict[str, Origin] = {}
        self._deadlines: dict[float, timedelta] = {}
        self._lock = asyncio.Lock()

    async def _client(self, url: str) -> Client:
        # Hot path: the same few URLs (one per model and endpoint) come again and again,
        # so the parsed origin is remembered per URL string.
        origin = self._origins.get(url)
        if origin is None:
            origin = self._guard.parse(url)
            if len(self._origins) >= _MAX_REMEMBERED_URLS:
                self._origins.clear()
            self._origins[url] = origin
        pooled = self._clients.get(origin)
        if pooled is not None and pooled.expires_at > time.monotonic():
            return pooled.client
        return await self._renew(origin, pooled)

    async def _renew(self, origin: Origin, pooled: _Pooled | None) -> Client:
        async with self._lock:
            pooled = self._clients.get(origin)
            if pooled is not None and pooled.expires_at > time.monotonic():
                return pooled.client
            pinned = await self._guard.resolve(origin)
            builder = client_builder(self._connect_timeout, self._read_timeout)
            if pinned is not None:
                builder = builder.resolve(origin.host, pinned, origin.port)
            await self._close_retired()
            if pooled is not None:
                self._retired.append((time.monotonic(), pooled.client))
            client = builder.build()
            # Literal and unpinned origins need no re-resolution; pinned ones are re-checked.
            ttl = self._dns_ttl if pinned is not None else float("inf")
            self._clients[origin] = _Pooled(client, time.monotonic() + ttl)
            return client

    async def send(
        self,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | None,
        *,
        stream: bool,
        total_timeout: float | None = None,
        body_stream: AsyncIterable[bytes] | None = None,
        query: Sequence[tuple[str, str]] | None = None,
    ) -> UpstreamResponse:
        """``body_stream`` (instead of ``body``) is sent as it is produced; an exception it raises
        (a size limit, the client gone) comes out of ``send`` unchanged. ``query``: parameters
        added to ``url`` (a search's words: kept out of the URL remembered per call site)."""
        client = await self._client(url)
        builder = client.request(method, url).headers(headers)
        if query is not None:
            builder = builder.query(query)
        if body_stream is not None:
            builder = builder.body_stream(body_stream)
        elif body is not None:
            builder = builder.body_bytes(body)
        if total_timeout is not None:
            deadline = self._deadlines.get(total_timeout)
            if deadline is None:
                if len(self._deadlines) >= _MAX_REMEMBERED_URLS:
                    self._deadlines.clear()
                deadline = self._deadlines[total_timeout] = timedelta(seconds=total_timeout)
            builder = builder.timeout(deadline)
        try:
            if not stream:
                return await self._read_whole(builder)
            # pyreqwest pre-reads up to 64 KiB of a streamed body before returning the
            # response unless told not to: that would hold back a stream's first events.
            request = builder.streamed_read_buffer_limit(0).build_streamed()
            streamed = await request.__aenter__()
            return _StreamingResponse(request, streamed, self._stream_bounds)
        except PyreqwestError as exc:
            raise _translate(exc) from None

    async def _read_whole(self, builder: RequestBuilder) -> _BufferedResponse:
        """A unary answer, read up to ``max_body_bytes`` (a hostile upstream cannot fill memory)."""
        request = builder.streamed_read_buffer_limit(_UNARY_PREREAD).build_streamed()
        response = await request.__aenter__()
        try:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self._max_body:
                raise ResponseTooLarge(f"the answer declares {declared} bytes; the limit is {self._max_body}")
            body = await read_at_most(response.body_reader, self._max_body)
            return _BufferedResponse(response, body)
        finally:
            await request.__aexit__(None, None, None)

    async def _close_retired(self) -> None:
        """Close replaced clients once no call they carried can still be running."""
        grace = self._read_timeout + self._connect_timeout
        now = time.monotonic()
        keep: list[tuple[float, Client]] = []
        for retired_at, client in self._retired:
            if now - retired_at > grace:
                await client.close()
            else:
                keep.append((retired_at, client))
        self._retired = keep

    async def aclose(self) -> None:
        clients = [pooled.client for pooled in self._clients.values()] + [
            client for _, client in self._retired
        ]
        self._clients.clear()
        self._retired.clear()
        for client in clients:
            await client.close()
