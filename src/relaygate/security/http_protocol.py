"""uvicorn's httptools protocol with a bound on the request head (request line + headers).

httptools buffers a header until it is complete and uvicorn sets no limit of its own
(``h11_max_incomplete_event_size`` applies to the h11 parser only): a client could make
one process hold megabytes per connection before our application sees a byte. This
subclass counts what arrives while a request head is being read and answers
``431 Request Header Fields Too Large`` (and closes) once it passes
``RELAYGATE_MAX_HEADER_BYTES``; at most one more socket read (256 KiB) is buffered
before the check. The cost is one addition per received packet.

It also hands uvicorn a ``CoalescingTransport``, so a response's head and its first
body bytes go out in one socket write (see ``write_coalescing.py``).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from relaygate.errors import error_body
from relaygate.settings import Settings
from relaygate.write_coalescing import CoalescingTransport

_LINGER_SECONDS = 0.5


@functools.cache
def head_limit() -> int:
    """Read once per process: uvicorn imports this class by name in every worker."""
    return Settings.from_env().max_header_bytes


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_limit = head_limit()
        self._reading_head = True
        self._head_bytes = 0
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only look like them.
        coalescing = CoalescingTransport(cast(asyncio.Transport, transport), self.loop)
        super().connection_made(cast(asyncio.Transport, coalescing))

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # the rest of a refused head, read only so that closing sends no reset
        if not self._reading_head:
            super().data_received(data)
            return
        # Feed first: this packet may finish the head and carry body bytes after it.
        self._head_bytes += len(data)
        super().data_received(data)
        if self._reading_head and self._head_bytes > self._head_limit:
            self._refuse_head()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True

    def _refuse_head(self) -> None:
        body = error_body(
            431,
            f"The request line and headers exceed {self._head_limit} bytes (RELAYGATE_MAX_HEADER_BYTES).",
            "invalid_request_error",
            "request_header_fields_too_large",
        )
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
