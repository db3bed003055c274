"""The audit log's recorder: a pure ASGI middleware around the /v2 routes.

For each write ``audit_rules.target_of`` recognises, it reads the resource as the API
shows it before the write (a GET through the same application, as the admitted caller),
lets the write run, reads it again after (the id of a created resource taken from the
answer) and stores one entry: the caller's key (id, name, prefix), the action, the
resource, both snapshots with their secrets removed, the time, the request id and the
client's address. Refused writes (4xx, 5xx, an SSE answer ending in an ``error`` event)
are not changes and are not recorded.

The answer's last body message is held until the entry is stored, so a client that
reads the log right after a write finds it there. The write and the entry are two
transactions: the write paths stay as they are (one recorder for every resource), and an
entry that cannot be stored is logged as an error, never turning a done write into a
failure.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.asgi import header
from relaygate.catalog import Principal
from relaygate.deployments.ids import new_ulid
from relaygate.sse import event_fields, split_events
from relaygate.store import audit as store
from relaygate.store.records import utcnow
from relaygate.types import ASGIApp, Message, Receive, Scope, Send

from .audit_rules import Target, picked, scrub, target_of
from .auth import PRINCIPAL

log = logging.getLogger("relaygate.audit")
MAX_CAPTURED = 1024 * 1024  # of an answer read for the id of what it created
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id_of(scope: Scope) -> str:
    """The client's ``x-request-id`` when it is a sane token, else a new one."""
    given = header(scope, b"x-request-id")
    text = given.decode("latin-1") if given is not None else ""
    return text if _REQUEST_ID.match(text) else f"ctl_{new_ulid()}"


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _streamed_object(body: bytes) -> tuple[bool, Any]:
    """An SSE answer (a probing model write): (whether it ended well, its ``model`` event's object)."""
    found: Any = None
    for event in split_events(body):
        fields = dict(event_fields(event))
        name = fields.get(b"event", b"")
        if name == b"error":
            return False, None
        if name == b"model":
            found = _json(fields.get(b"data", b""))
    return found is not None, found


def created_id(answered: Any) -> str | None:
    """The id an answer gives its object (the SDKs' shapes call it ``_id``)."""
    if not isinstance(answered, dict):
        return None
    found = answered.get("id", answered.get("_id"))
    return found if isinstance(found, str) else None


class _Answer:
    """The write's answer as it passes: its status, its body (bounded), its last message held."""

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self.request_id = request_id
        self.status = 0
        self.streamed = False
        self.body = bytearray()
        self.held: Message | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            headers = list(message.get("headers", []))
            self.streamed = any(
                name.lower() == b"content-type" and value.startswith(b"text/event-stream")
                for name, value in headers
            )
            headers.append((b"x-request-id", self.request_id.encode()))
            message = {**message, "headers": headers}
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            if len(self.body) + len(chunk) <= MAX_CAPTURED:
                self.body += chunk
            if not message.get("more_body", False):
                self.held = message
                return
        await self._send(message)

    async def release(self) -> None:
        if self.held is not None:
            held, self.held = self.held, None
            await self._send(held)

    def outcome(self) -> tuple[bool, Any]:
        """Whether the write was done, and the object its answer carries (if JSON)."""
        if not 200 <= self.status < 300:
            return False, None
        if self.streamed:
            return _streamed_object(bytes(self.body))
        return True, _json(bytes(self.body))


class AuditTrail:
    def __init__(self, app: ASGIApp, engine: AsyncEngine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal: Principal | None = scope.get(PRINCIPAL)
        target = target_of(scope.get("method", ""), scope["path"]) if scope["type"] == "http" else None
        if target is None or principal is None:
            await self.app(scope, receive, send)
            return
        pristine = dict(scope)  # the routing below writes into ``scope``
        before = await self._snapshot(pristine, target) if target.action != "create" else None
        answer = _Answer(send, request_id_of(scope))
        try:
            await self.app(scope, receive, answer.send)
            done, answered = answer.outcome()
            if done:
                await self._record(pristine, principal, target, before, answered, answer)
        finally:
            await answer.release()

    async def _record(
        self, scope: Scope, principal: Principal, target: Target, before: Any, answered: Any, answer: _Answer
    ) -> None:
        if target.resource_id is None:
            target = target.with_id(created_id(answered))
        after = None if target.action == "delete" else await self._snapshot(scope, target)
        try:
            name, prefix = await store.key_label(self.engine, principal.key_id)
            client = scope.get("client")
            await store.insert_entry(
                self.engine,
                store.AuditEntry(
                    id=new_ulid(),
                    workspace_id=principal.workspace_id,
                    at=utcnow(),
                    actor_key_id=principal.key_id,
                    actor_name=name,
                    actor_prefix=prefix,
                    action=target.action,
                    resource_type=target.resource,
                    resource_id=target.resource_id,
                    method=scope["method"],
                    path=scope["path"][:512],
                    status=answer.status,
                    before=scrub(before),
                    after=scrub(after),
                    request_id=answer.request_id,
                    client_address=str(client[0])[:64] if client else None,
                ),
            )
        except Exception as exc:  # the write is done: a lost entry is logged, never the caller's error
            log.error("could not record an audit entry for %s %s: %s", scope["method"], scope["path"], exc)

    async def _snapshot(self, scope: Scope, target: Target) -> Any:
        """The resource as its GET shows it to the caller, or None (absent, unreadable)."""
        path = target.reader_path()
        if path is None:
            return None
        sub: Scope = {
            **scope,
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"accept", b"application/json")],
        }
        captured: dict[str, Any] = {"status": 0, "body": bytearray()}

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def collect(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")

        try:
            await self.app(sub, receive, collect)
        except Exception as exc:
            log.warning("audit snapshot of %s failed: %s", path, exc)
            return None
        if captured["status"] != 200:
            return None
        found = _json(bytes(captured["body"]))
        if target.pick:
            return picked(found, target.resource_id or "")
        return found
