"""Sending an answer the way a `Fault` says: late, slowly, cut off, or with garbage in the stream.

Handlers return a `Reply` (status, headers, body chunks); `Delivery` is the ASGI response that sends
it. It watches for the client going away so that never-ending and slow streams stop, and it aborts
the connection (closing the socket mid-body) by raising `UpstreamAbort`, which uvicorn answers by
closing the transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .faults import Fault
from .state import UpstreamState
from .text import pretty

SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"
MALFORMED_SSE = b'this line is not sse\n\ndata: {"id": "broken", "choices": [\n\ndata: \xff\xfe not utf-8\n\n'
NEVER_ENDING_MIN_INTERVAL = 0.001


class UpstreamAbort(Exception):
    """Raised on purpose to make uvicorn drop the connection mid-answer."""


class _DropIntentionalAborts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, UpstreamAbort)


def silence_intentional_aborts() -> None:
    """Keeps uvicorn from logging our deliberate aborts as application errors (other errors still log)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropIntentionalAborts) for f in logger.filters):
        logger.addFilter(_DropIntentionalAborts())


@dataclass
class Reply:
    """A handler's answer. `stream` replies use chunked encoding, others a content-length."""

    status: int = 200
    content_type: str = "application/json"
    chunks: Iterable[bytes] = ()
    stream: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(obj: Any, status: int = 200) -> Reply:
    return Reply(status=status, chunks=[pretty(obj)])


def sse_reply(events: Iterable[bytes]) -> Reply:
    return Reply(content_type=SSE_CONTENT_TYPE, chunks=events, stream=True)


def error_reply(
    status: int,
    message: str,
    *,
    type_: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> Reply:
    return json_reply({"error": {"message": message, "type": type_, "param": param, "code": code}}, status)


def fault_reply(fault: Fault) -> Reply:
    if fault.raw_stream is not None:
        return Reply(
            status=fault.status, content_type=fault.content_type, chunks=fault.raw_stream(), stream=True
        )
    body, content_type = fault.replacement_body()
    return Reply(status=fault.status, content_type=content_type, chunks=[body])


class _DisconnectWatch:
    """Listens for `http.disconnect` while the answer is being sent."""

    def __init__(self, receive: Receive) -> None:
        self.gone = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.gone.set()

    async def sleep(self, seconds: float) -> bool:
        """Sleeps; returns False early if the client went away."""
        if self.gone.is_set():
            return False
        if seconds <= 0:
            await asyncio.sleep(0)
            return not self.gone.is_set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.gone.wait(), seconds)
        return not self.gone.is_set()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Delivery(Response):
    def __init__(self, reply: Reply, fault: Fault, state: UpstreamState, max_seconds: float) -> None:
        self.reply = reply
        self.fault = fault
        self.state = state
        self.deadline = time.monotonic() + max_seconds
        self.chunks = list(reply.chunks) if not reply.stream else reply.chunks
        self.background = None
        self.status_code = reply.status
        headers = {**reply.headers, **fault.headers, "content-type": reply.content_type}
        if not reply.stream:
            headers["content-length"] = str(sum(len(c) for c in self.chunks))
        else:
            headers.setdefault("cache-control", "no-cache")
        self.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watch = _DisconnectWatch(receive)
        try:
            finished = await self._send_all(send, watch)
        finally:
            await watch.close()
        if not finished:
            self.state.count("client_disconnects")

    def _interval(self) -> float:
        if self.fault.never_ending:
            return max(self.fault.chunk_delay, NEVER_ENDING_MIN_INTERVAL)
        return self.fault.chunk_delay

    def _abort(self) -> UpstreamAbort:
        self.state.count("aborts")
        return UpstreamAbort("connection aborted by the fake upstream")

    async def _send_all(self, send: Send, watch: _DisconnectWatch) -> bool:
        """Sends the answer; False if the client went away first. Raises `UpstreamAbort` to cut it off."""
        if self.fault.delay and not await watch.sleep(self.fault.delay):
            return False
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        limit = self.fault.disconnect_after
        for index, chunk in enumerate(self.chunks):
            if limit is not None and index >= limit:
                raise self._abort()
            if index and self._interval() and not await watch.sleep(self._interval()):
                return False
            if self.state.stopping or time.monotonic() > self.deadline:
                raise self._abort()
            if not await self._send_chunk(send, chunk, watch):
                return False
            if index == 0 and self.reply.stream and self.fault.malformed_sse:
                await send({"type": "http.response.body", "body": MALFORMED_SSE, "more_body": True})
        if self.fault.end_delay and not await watch.sleep(self.fault.end_delay):
            return False
        if self.fault.abort_at_end:
            raise self._abort()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return True

    async def _send_chunk(self, send: Send, chunk: bytes, watch: _DisconnectWatch) -> bool:
        if self.fault.line_ending != b"\n" and "event-stream" in self.reply.content_type:
            chunk = chunk.replace(b"\n", self.fault.line_ending)  # JSON in an event is one line
        interval = self.fault.byte_interval
        if not interval:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            # A send to a client that went away returns at once: yield, so the disconnect
            # watch runs even when an endless stream never pauses.
            await asyncio.sleep(0)
            return not watch.gone.is_set()
        for offset in range(len(chunk)):
            if offset and not await watch.sleep(interval):
                return False
            if self.state.stopping or time.monotonic() > self.deadline:
                raise self._abort()
            await send({"type": "http.response.body", "body": chunk[offset : offset + 1], "more_body": True})
        return not watch.gone.is_set()
