"""Raw-ASGI helpers both planes use: read a request header, send a response or an error.

The data plane and the control plane's admission middleware answer before any framework
sees the request; these few functions are all they need. Reading a bounded body is the
data plane's alone (``router/asgi.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from relaygate.errors import RelaygateError
from relaygate.types import Scope, Send

RawHeaders = list[tuple[bytes, bytes]]
JSON_TYPE = (b"content-type", b"application/json")


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a request header; ``name`` in lower case, as ASGI servers give it."""
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


async def send_bytes(send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]]) -> None:
    raw: RawHeaders = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, error: RelaygateError, extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    headers: RawHeaders = [JSON_TYPE, *extra]
    headers.extend((key.lower().encode(), value.encode()) for key, value in error.headers.items())
    await send_bytes(send, error.status, error.body_bytes(), headers)
