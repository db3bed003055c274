"""Model calls of evaluators, made through relaygate's own data plane, in process.

A judge or an embedding model of the workspace is called exactly as a client would call
it: the router's ASGI entry runs the whole call (the catalog's model or deployment,
routing, limits admission and settlement, retries and fallbacks, the usage event), only
without a socket. The call carries the principal it is made for on the ASGI scope
(``auth.IN_PROCESS_PRINCIPAL``), which no HTTP request can set, so no key is minted or
stored for it; its usage event names the evaluator (``name`` and ``metadata``, the
router's own attribution fields) and counts against that principal's key and workspace.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from relaygate.auth import IN_PROCESS_PRINCIPAL
from relaygate.catalog import Catalog, Principal
from relaygate.types import Message, Receive, Scope, Send

RouterEntry = Callable[[Scope, Receive, Send, str], Awaitable[None]]
MAX_ANSWER_BYTES = 4 * 1024 * 1024
_ROUTER_PREFIX = "/v3/router"


class ModelCallError(Exception):
    """The data plane refused or failed the call; the message is its error's, for the score."""


class _Capture:
    """The ASGI ``send`` of one in-process call: its status and body, bounded."""

    def __init__(self) -> None:
        self.status = 0
        self.parts: list[bytes] = []
        self.size = 0

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunk = bytes(message.get("body", b""))
            self.size += len(chunk)
            if self.size > MAX_ANSWER_BYTES:
                raise ModelCallError(f"the model's answer is larger than {MAX_ANSWER_BYTES} bytes")
            self.parts.append(chunk)


def in_process_scope(path: str, raw: bytes, principal: Principal) -> Scope:
    """The ASGI scope of a JSON POST of ``raw`` to the router's ``path``, made for ``principal``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": _ROUTER_PREFIX + path,
        "raw_path": (_ROUTER_PREFIX + path).encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
        IN_PROCESS_PRINCIPAL: principal,
    }


def request_receive(raw: bytes) -> Receive:
    """The ASGI ``receive`` of an in-process call: the body at once, then no hang-up ever
    (the router's disconnect watch is cancelled when the call ends)."""
    sent = False
    never = asyncio.Event()

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}

    return receive


def error_message(status: int, body: bytes) -> str:
    try:
        error = orjson.loads(body).get("error", {})
        message = error.get("message") if isinstance(error, dict) else None
    except (orjson.JSONDecodeError, AttributeError):
        message = None
    return f"HTTP {status}: {message}" if isinstance(message, str) else f"HTTP {status}"


class RouterModels:
    """The workspace's models as one principal reaches them through the router."""

    def __init__(self, router: RouterEntry, catalog: Catalog, principal: Principal) -> None:
        self._router = router
        self._catalog = catalog
        self._principal = principal

    def enforces_schemas(self, model: str) -> bool:
        """Whether the model enforces a strict JSON-schema ``response_format`` itself."""
        found = self._catalog.model(self._principal.workspace_id, model)
        return found is not None and found.supports("supports_strict_tool")

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to the router's ``path`` (``/chat/completions``) and return its JSON answer."""
        raw = orjson.dumps(body)
        capture = _Capture()
        await self._router(in_process_scope(path, raw, self._principal), request_receive(raw), capture, path)
        answer = b"".join(capture.parts)
        if capture.status != 200:
            raise ModelCallError(error_message(capture.status, answer))
        try:
            parsed = orjson.loads(answer)
        except orjson.JSONDecodeError:
            raise ModelCallError("the model's answer is not JSON") from None
        if not isinstance(parsed, dict):
            raise ModelCallError("the model's answer is not a JSON object")
        return parsed
