"""One socket write per small HTTP response instead of two.

uvicorn writes a response's status line and headers as soon as the app sends
``http.response.start``, and its body with the next message: two ``send`` calls, two
TCP segments, twice the kernel's per-packet work on both ends. The app sends both in
the same event-loop step, so the transport below holds a status-line write back until
the next write or the end of that step, whichever comes first, and sends them together.
Only writes that open a response are held; everything else goes out at once, after
anything held, so bytes always leave in the order they were written.
"""

from __future__ import annotations

import asyncio
from typing import Any

_STATUS_LINE = b"HTTP/1."


class CoalescingTransport:
    """Wraps the server's transport; every other method is the wrapped one's."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + bytes(data))
        elif data[:7] == _STATUS_LINE:
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
