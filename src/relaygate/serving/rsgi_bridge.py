"""One HTTP exchange of granian's RSGI protocol, seen by the application as ASGI.

The application keeps its ASGI shape (``scope``, ``receive``, ``send``) so that one code
serves both servers; this adapter is what granian costs it per request: a scope dict,
the header names and values as bytes, and a direct call of the RSGI response method.

- The request body comes whole when its length is declared (granian reads exactly that
  much), and chunk by chunk otherwise, so the application's size limits apply as it is
  read. Afterwards ``receive()`` waits for the client to go away, as in ASGI.
- A response with ``more_body`` false from the start goes out as one ``response_bytes``
  call (granian sets its length); anything else is streamed, and the stream ends on the
  last body message: granian ends a stream when its transport is dropped, so the
  adapter drops it there rather than leaving that to the garbage collector.
- Sends after the client went away are ignored, as uvicorn does: the application finds
  out through ``receive()`` (the disconnect watcher) and stops on its own.
"""

from __future__ import annotations

import contextlib
from typing import Any

from granian.rsgi import HTTPProtocol, ProtocolClosed, ProtocolError, Scope

from relaygate.types import Message

_DISCONNECT: Message = {"type": "http.disconnect"}
# Where the request body stands.
_WHOLE = 0  # a declared length, or no body: read it in one call
_CHUNKED = 1  # chunked: read it chunk by chunk, from the next receive() on
_STREAMING = 2
_READ = 3


def asgi_scope(scope: Scope) -> dict[str, Any]:
    """The ASGI scope of an RSGI request (``path`` is percent-decoded in both)."""
    host, _, port = scope.client.rpartition(":")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": scope.http_version,
        "method": scope.method,
        "scheme": scope.scheme,
        "path": scope.path,
        "query_string": scope.query_string.encode("latin-1"),
        "root_path": "",
        "headers": [(key.encode("latin-1"), value.encode("latin-1")) for key, value in scope.headers.items()],
        "client": (host.strip("[]"), int(port or 0)),
        "server": None,
    }


def _str_headers(headers: list[tuple[bytes, bytes]], *, keep_length: bool) -> list[tuple[str, str]]:
    return [
        (key.decode("latin-1"), value.decode("latin-1"))
        for key, value in headers
        if keep_length or key.lower() != b"content-length"
    ]


class RsgiExchange:
    __slots__ = ("_body", "_chunks", "_done", "_headers", "_proto", "_status", "_stream")

    def __init__(self, proto: HTTPProtocol, scope: Scope) -> None:
        self._proto = proto
        self._body = _CHUNKED if "transfer-encoding" in scope.headers else _WHOLE
        self._chunks: Any = None
        self._stream: Any = None
        self._status = 200
        self._headers: list[tuple[bytes, bytes]] = []
        self._done = False

    async def receive(self) -> Message:
        state = self._body
        try:
            if state == _WHOLE:
                self._body = _READ
                return {"type": "http.request", "body": await self._proto(), "more_body": False}
            if state == _CHUNKED:
                self._chunks = aiter(self._proto)
                self._body = state = _STREAMING
            if state == _STREAMING:
                try:
                    chunk = await anext(self._chunks)
                except StopAsyncIteration:
                    self._body = _READ
                    return {"type": "http.request", "body": b"", "more_body": False}
                return {"type": "http.request", "body": chunk, "more_body": True}
            await self._proto.client_disconnect()
        except (ProtocolClosed, ProtocolError):
            pass
        return _DISCONNECT

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._status = message["status"]
            self._headers = message["headers"]
            return
        if kind != "http.response.body" or self._done:
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        stream = self._stream
        if stream is None:
            if not more:
                self._done = True
                self._proto.response_bytes(self._status, _str_headers(self._headers, keep_length=False), body)
                return
            stream = self._stream = self._proto.response_stream(
                self._status, _str_headers(self._headers, keep_length=True)
            )
        if body:
            with contextlib.suppress(ProtocolClosed, ProtocolError):
                await stream.send_bytes(body)  # fails once the client left; receive() says so
        if not more:
            self.finish()

    def finish(self) -> None:
        """End the response now (dropping the stream transport is what ends it)."""
        self._done = True
        self._stream = None
