"""Who may send a ``/v2`` request, and how large its body may be: decided before a body byte is read.

FastAPI reads a route's body before it resolves the route's dependencies, so the admin
check of ``auth.admin`` alone came after reading whatever a client sent, keyed or not.
This pure ASGI middleware sits in front of FastAPI and, for every ``/v2`` path, from the
request's head alone:

- authenticates it (``auth.admit``): 401 without a valid key, 429 from the auth brake,
  403 for a router key; the caller it found rides on the scope for ``auth.admin``;
- refuses a declared ``Content-Length`` over ``RELAYGATE_MAX_CONTROL_BODY_BYTES`` (413);
- then counts the body as the application reads it: the read that passes the bound is
  answered 413 there, and the application sees the client go away. Nothing past the
  bound is handed on.

A refused request that has a body gets ``Connection: close``, so its server stops reading
the rest. One ``/v2`` route takes a file, a dataset import: it streams and bounds the
file itself (``RELAYGATE_MAX_IMPORT_BYTES``); other uploads go to ``/v3/router``, under
``RELAYGATE_MAX_UPLOAD_BYTES``.
"""

from __future__ import annotations

from relaygate.asgi import header, send_error
from relaygate.errors import PayloadTooLarge, RelaygateError
from relaygate.runtime import Runtime
from relaygate.types import ASGIApp, Message, Receive, Scope, Send

from .auth import PRINCIPAL, admit

_CLOSE = ((b"connection", b"close"),)
_DISCONNECT: Message = {"type": "http.disconnect"}


def _is_control_api(path: str) -> bool:
    return path.startswith("/v2/") or path == "/v2"


def _has_body(scope: Scope) -> bool:
    length = header(scope, b"content-length")
    return (length is not None and length != b"0") or header(scope, b"transfer-encoding") is not None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body exceeds {limit} bytes (RELAYGATE_MAX_CONTROL_BODY_BYTES).")


def _bounds_its_own_body(path: str) -> bool:
    """A dataset import takes a file up to RELAYGATE_MAX_IMPORT_BYTES and bounds it itself."""
    return path.startswith("/v2/datasets/") and path.endswith("/import")


def _declared_over(scope: Scope, limit: int) -> bool:
    length = header(scope, b"content-length")
    return length is not None and length.isdigit() and int(length) > limit


class ControlAdmission:
    def __init__(self, app: ASGIApp, runtime: Runtime, max_body: int) -> None:
        self.app = app
        self.runtime = runtime
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_control_api(scope["path"]):
            await self.app(scope, receive, send)
            return
        has_body = _has_body(scope)
        try:
            scope[PRINCIPAL] = await admit(self.runtime, scope)
            own_bound = _bounds_its_own_body(scope["path"])
            if _declared_over(scope, self.max_body) and not own_bound:
                raise _too_large(self.max_body)
        except RelaygateError as error:
            await send_error(send, error, _CLOSE if has_body else ())
            return
        if not has_body or own_bound:
            await self.app(scope, receive, send)
            return
        body = BoundedBody(receive, send, self.max_body)
        await self.app(scope, body.receive, body.send)


class BoundedBody:
    """One request's body, handed on until it passes ``limit``; then a 413 and a disconnect."""

    __slots__ = ("_limit", "_receive", "_received", "_refused", "_send", "_started")

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive = receive
        self._send = send
        self._limit = limit
        self._received = 0
        self._refused = False
        self._started = False

    async def receive(self) -> Message:
        if self._refused:
            return _DISCONNECT
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._limit:
                await self._refuse()
                return _DISCONNECT
        return message

    async def send(self, message: Message) -> None:
        if self._refused:
            return  # the application's answer to the disconnect: the 413 went out instead
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)

    async def _refuse(self) -> None:
        self._refused = True
        if not self._started:
            await send_error(self._send, _too_large(self._limit), _CLOSE)
