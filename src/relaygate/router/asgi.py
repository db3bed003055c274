"""Small raw-ASGI helpers for the data plane: read a bounded body, send a response.

The data plane does not pay for a framework: these few functions are all it needs.
Reading a header and sending a response are shared with the control plane's admission
(``relaygate/asgi.py``) and offered here too, so the router's modules have one place to
import them from.
"""

from __future__ import annotations

from relaygate.asgi import JSON_TYPE, RawHeaders, header, send_bytes, send_error
from relaygate.errors import InvalidRequest, PayloadTooLarge
from relaygate.types import Receive, Scope

__all__ = ["JSON_TYPE", "ClientGone", "RawHeaders", "header", "read_body", "send_bytes", "send_error"]


class ClientGone(Exception):
    """The client disconnected before we finished reading its request."""


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
