"""The one place relaygate's upstream HTTP client lives.

The interface is small on purpose (``send`` and ``aclose``, like httpx's transport), so
the client library can change in one file. Today it is pyreqwest (Rust reqwest): about
half aiohttp's CPU per forwarded request on this machine, see DESIGN.md.

Connections are pooled per upstream origin. Each origin's client is pinned to the
address the SSRF guard checked, re-resolved every ``dns_ttl`` seconds; redirects are
never followed. The answer's side is ``upstream_response.py`` and the errors are
``transport_errors.py`` (both re-exported here).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import PyreqwestError
from pyreqwest.request import RequestBuilder

from relaygate.upstream.ssrf import Origin, UpstreamGuard
from relaygate.upstream.transport_errors import (
    ConnectFailed,
    ResponseTooLarge,
    TimedOut,
    TransportError,
    translated,
)
from relaygate.upstream.upstream_response import (
    BufferedResponse,
    StreamBounds,
    StreamingResponse,
    UpstreamResponse,
    WholeBody,
    read_at_most,
)

__all__ = [
    "ConnectFailed",
    "Headers",
    "PyreqwestTransport",
    "ResponseTooLarge",
    "StreamBounds",
    "TimedOut",
    "Transport",
    "TransportError",
    "UpstreamResponse",
    "WholeBody",
    "client_builder",
]

Headers = Sequence[tuple[str, str]]


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


_UNARY_PREREAD = 64 * 1024  # a typical answer arrives whole with the headers


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
            return StreamingResponse(request, streamed, self._stream_bounds)
        except PyreqwestError as exc:
            raise translated(exc) from None

    async def _read_whole(self, builder: RequestBuilder) -> BufferedResponse:
        """A unary answer, read up to ``max_body_bytes`` (a hostile upstream cannot fill memory)."""
        request = builder.streamed_read_buffer_limit(_UNARY_PREREAD).build_streamed()
        response = await request.__aenter__()
        try:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self._max_body:
                raise ResponseTooLarge(f"the answer declares {declared} bytes; the limit is {self._max_body}")
            body = await read_at_most(response.body_reader, self._max_body)
            return BufferedResponse(response, body)
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
