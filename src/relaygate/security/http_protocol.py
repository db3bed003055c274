"""uvicorn's httptools protocol with a bound on the request head (request line + headers).

httptools buffers a header until it is complete and uvicorn sets no limit of its own
(``h11_max_incomplete_event_size`` applies to the h11 parser only): a client could make
one process hold megabytes per connection before our application sees a byte. This
subclass answers ``431 Request Header Fields Too Large`` (and closes) once a head passes
``RELAYGATE_MAX_HEADER_BYTES``, however its bytes arrive, in two checks:

- while a head is incomplete, by the bytes received since it began (rounded down to the
  start of the socket read it began in), checked after each read: at most one more read
  (256 KiB) is buffered;
- when a head is complete, by its parsed size (``request_head.py``), so a head that
  arrives whole within one read, or completes in the read that takes it past the bound,
  is refused too. That size is worked out only when the bytes received since the head
  began pass the bound, so a normal request pays one subtraction.

It also hands uvicorn a ``CoalescingTransport``, so a response's head and its first
body bytes go out in one socket write (see ``write_coalescing.py``).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from relaygate.security.request_head import head_size, refusal_body
from relaygate.serving.write_coalescing import CoalescingTransport
from relaygate.settings import Settings

_LINGER_SECONDS = 0.5


@functools.cache
def head_limit() -> int:
    """Read once per process: uvicorn imports this class by name in every worker."""
    return Settings.from_env().max_header_bytes


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_limit = head_limit()
        self._received = 0  # bytes received on this connection
        self._read_start = 0  # where the current socket read begins in them
        self._head_start = 0  # where the current head begins, rounded down to its read
        self._reading_head = False
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only look like them.
        coalescing = CoalescingTransport(cast(asyncio.Transport, transport), self.loop)
        super().connection_made(cast(asyncio.Transport, coalescing))

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # the rest of a refused head, read only so that closing sends no reset
        self._read_start = self._received
        self._received += len(data)
        super().data_received(data)
        if self._reading_head and self._received - self._head_start > self._head_limit:
            self._refuse_head()

    def on_message_begin(self) -> None:
        # A head's first byte: it began in this read. A keep-alive request's head begins
        # with its read, so only pipelined heads are rounded down (to their whole read).
        self._reading_head = True
        self._head_start = self._read_start
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        if self._refused:
            return  # a pipelined request behind a refused head, in the same read
        if (
            self._received - self._head_start > self._head_limit
            and self._parsed_head_size() > self._head_limit
        ):
            self._refuse_head()
            return
        self._reading_head = False
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _parsed_head_size(self) -> int:
        return head_size(len(self.parser.get_method()), len(self.url), self.headers)

    def _refuse_head(self) -> None:
        body = refusal_body(self._head_limit)
        head = (
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n"
        )
        self._reading_head = False
        self._refused = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(head + body)
            # Closing at once with the client's bytes still unread makes the kernel send a
            # reset, which can reach the client before our answer: linger a moment first.
            self.loop.call_later(_LINGER_SECONDS, self.transport.close)
