"""Small raw-ASGI helpers for the data plane: read a bounded body, send a response.

The data plane does not pay for a framework: these few functions are all it needs.
"""

from __future__ import annotations

from collections.abc import Iterable

from relaygate.errors import InvalidRequest, PayloadTooLarge, RelaygateError
from relaygate.types import Receive, Scope, Send

RawHeaders = list[tuple[bytes, bytes]]
JSON_TYPE = (b"content-type", b"application/json")


class ClientGone(Exception):
    """The client disconnected before we finished reading its request."""


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    declared = header(scope, b"content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise InvalidRequest("Content-Length is not a number") from None
        if size > limit:
            raise PayloadTooLarge(f"request body is {size} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            received += len(chunk)
            if received > limit:
                raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_bytes(send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]]) -> None:
    raw: RawHeaders = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, error: RelaygateError, extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    headers: RawHeaders = [JSON_TYPE, *extra]
    headers.extend((key.lower().encode(), value.encode()) for key, value in error.headers.items())
    await send_bytes(send, error.status, error.body_bytes(), headers)
