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
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import ConnectError, PyreqwestError, RequestTimeoutError
from pyreqwest.request import StreamRequest
from pyreqwest.response import Response

from relaygate.upstream.ssrf import Origin, UpstreamGuard

Headers = Sequence[tuple[str, str]]


class TransportError(Exception):
    """The upstream could not be reached or did not answer in time.

    TransportError
     +-- ConnectFailed      (no connection: refused, reset, DNS, TLS)
     +-- TimedOut           (connect, read or total deadline passed)
    """


class ConnectFailed(TransportError):
    pass


class TimedOut(TransportError):
    pass


class UpstreamResponse(Protocol):
    status: int
    headers: list[tuple[str, str]]

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
    ) -> UpstreamResponse: ...

    async def aclose(self) -> None: ...


def _translate(exc: PyreqwestError) -> TransportError:
    # pyreqwest's messages name the URL and the OS error, never headers or bodies.
    reason = exc.message
    if isinstance(exc, RequestTimeoutError):
        return TimedOut(reason)
    if isinstance(exc, ConnectError):
        return ConnectFailed(reason)
    return ConnectFailed(reason)


class _BufferedResponse:
    """A response whose body pyreqwest already read whole."""

    def __init__(self, response: Response, body: bytes) -> None:
        self.status = response.status
        self.headers = list(response.headers.items())
        self._body = body

    async def read(self) -> bytes:
        return self._body

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self._body

    async def aclose(self) -> None:
        return None


class _StreamingResponse:
    def __init__(self, request: StreamRequest, response: Response) -> None:
        self._request = request
        self._reader = response.body_reader
        self.status = response.status
        self.headers = list(response.headers.items())
        self._closed = False

    async def read(self) -> bytes:
        parts = [chunk async for chunk in self.chunks()]
        return b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while True:
                chunk = await self._reader.read_chunk()
                if chunk is None:
                    return
                yield bytes(chunk)
        except PyreqwestError as exc:
            raise _translate(exc) from None

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._request.__aexit__(None, None, None)


@dataclass
class _Pooled:
    client: Client
    expires_at: float


class PyreqwestTransport:
    def __init__(
        self,
        guard: UpstreamGuard,
        *,
        connect_timeout: float,
        read_timeout: float,
        dns_ttl: float = 60.0,
    ) -> None:
        self._guard = guard
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._dns_ttl = dns_ttl
        self._clients: dict[Origin, _Pooled] = {}
        self._retired: list[Client] = []
        self._lock = asyncio.Lock()

    async def _client(self, url: str) -> Client:
        origin = self._guard.parse(url)
        pooled = self._clients.get(origin)
        if pooled is not None and pooled.expires_at > time.monotonic():
            return pooled.client
        async with self._lock:
            pooled = self._clients.get(origin)
            if pooled is not None and pooled.expires_at > time.monotonic():
                return pooled.client
            pinned = await self._guard.resolve(origin)
            builder = (
                ClientBuilder()
                .follow_redirects(False)
                .referer(False)
                .gzip(False)
                .brotli(False)
                .zstd(False)
                .deflate(False)
                .connect_timeout(timedelta(seconds=self._connect_timeout))
                .read_timeout(timedelta(seconds=self._read_timeout))
                .pool_idle_timeout(timedelta(seconds=90))
                .user_agent("relaygate")
            )
            if pinned is not None:
                builder = builder.resolve(origin.host, pinned, origin.port)
            if pooled is not None:
                self._retired.append(pooled.client)
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
    ) -> UpstreamResponse:
        client = await self._client(url)
        builder = client.request(method, url).headers(headers)
        if body is not None:
            builder = builder.body_bytes(body)
        if total_timeout is not None:
            builder = builder.timeout(timedelta(seconds=total_timeout))
        try:
            if not stream:
                response = await builder.build().send()
                return _BufferedResponse(response, bytes(await response.bytes()))
            # pyreqwest pre-reads up to 64 KiB of a streamed body before returning the
            # response unless told not to: that would hold back a stream's first events.
            request = builder.streamed_read_buffer_limit(0).build_streamed()
            streamed = await request.__aenter__()
            return _StreamingResponse(request, streamed)
        except PyreqwestError as exc:
            raise _translate(exc) from None

    async def aclose(self) -> None:
        clients = [pooled.client for pooled in self._clients.values()] + self._retired
        self._clients.clear()
        self._retired.clear()
        for client in clients:
            await client.close()
