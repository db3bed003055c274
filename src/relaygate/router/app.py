"""The data plane's ASGI entry: authenticate, dispatch, forward, record.

Per request: one SHA-256 and one dict lookup for the key, one dict lookup for the
model, one upstream call on a pooled connection, one append to the usage queue.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import secrets
import time
from typing import Any

import orjson

from relaygate.catalog import Catalog, Principal, RoutableModel
from relaygate.errors import (
    AuthenticationFailed,
    MethodNotAllowed,
    NotFound,
    RelaygateError,
    ServiceUnavailable,
)
from relaygate.limits import Limiter
from relaygate.router.asgi import (
    JSON_TYPE,
    ClientGone,
    header,
    read_body,
    send_bytes,
    send_error,
)
from relaygate.router.auth_throttle import AuthThrottle
from relaygate.router.disconnects import DisconnectWatcher
from relaygate.router.endpoints import ENDPOINTS
from relaygate.router.forward import Forwarder
from relaygate.router.guards import InputGuard
from relaygate.router.request import model_not_found, prepare, with_fresh_model
from relaygate.router.special import SpecialCalls
from relaygate.types import Receive, Scope, Send
from relaygate.usage.body_log import BodyLog
from relaygate.usage.events import UsageEvent
from relaygate.usage.identity import annotate
from relaygate.usage.recorder import UsageRecorder

log = logging.getLogger("relaygate.router")

PREFIXES = ("/v3/router", "/v2/router")


def _model_object(model: RoutableModel) -> dict[str, Any]:
    return {"id": model.router_id, "object": "model", "created": model.created, "owned_by": model.provider}


async def authenticate(catalog: Catalog, scope: Scope, throttle: AuthThrottle | None = None) -> Principal:
    """The caller's principal: one dict lookup for a known key; a key the catalog does not
    know (made a moment ago by another process) is looked up in the store once, unless the
    client is braked for failing too often (429 instead of 401)."""
    value = header(scope, b"authorization")
    if not value:
        raise AuthenticationFailed(
            "You didn't provide an API key. Send your relaygate key in the Authorization header "
            "(Authorization: Bearer YOUR_KEY).",
            code="missing_api_key",
        )
    scheme, _, token = value.partition(b" ")
    key_hash = None
    if scheme.lower() == b"bearer" and token.strip():
        key_hash = hashlib.sha256(token.strip()).hexdigest()
        principal = catalog.principal(key_hash)
        if principal is not None:
            return principal
    if throttle is not None:
        throttle.check(scope)
    principal = await catalog.find_principal(key_hash) if key_hash is not None else None
    if principal is None:
        if throttle is not None:
            throttle.failed(scope)
        raise AuthenticationFailed("Incorrect API key provided. Use a relaygate key of this server.")
    return principal


def unroutable(method: str, full_path: str, path: str) -> RelaygateError:
    """A request no route takes: 405 (with ``Allow``) for a known path, else 404, as OpenAI answers."""
    if path in ENDPOINTS:
        return MethodNotAllowed(method, full_path, "POST")
    if path == "/models" or path.startswith("/models/"):
        return MethodNotAllowed(method, full_path, "GET")
    return NotFound(
        f"Unknown router endpoint: {method} {full_path}. See the OpenAI API reference.", code="unknown_url"
    )


class RouterApp:
    def __init__(
        self,
        catalog: Catalog,
        forwarder: Forwarder,
        recorder: UsageRecorder,
        max_body: int,
        *,
        guard: InputGuard | None = None,
        auth_throttle: AuthThrottle | None = None,
        limits: Limiter | None = None,
        max_upload: int | None = None,
        disconnects: DisconnectWatcher | None = None,
        max_in_flight: int = 0,
    ) -> None:
        self._catalog = catalog
        self._forwarder = forwarder
        self._recorder = recorder
        self._max_body = max_body
        self._guard = guard
        self.disconnects = disconnects or DisconnectWatcher()  # its run() is the runtime's task
        self.auth_throttle = auth_throttle  # shared with the control plane's authentication
        self.limits = limits  # set by the runtime
        self.tracing = False  # keep the client's traceparent for OpenTelemetry (runtime)
        self._special = SpecialCalls(catalog, max_body, max_upload or max_body, guard)
        # Load shedding: past this many calls at once, new ones get a 503 with Retry-After
        # (the SDKs retry those) instead of queueing until memory runs out.
        self._max_in_flight = max_in_flight or None
        self.in_flight = 0
        # Request ids: a random per-process prefix and a counter, unique across processes
        # without a getrandom() call per request.
        self._id_prefix = "req_" + secrets.token_hex(6)
        self._id_counter = itertools.count()

    @property
    def body_log(self) -> BodyLog | None:
        """Requests and answers kept in usage events (off unless the operator turns it on)."""
        return self._forwarder.body_log

    @body_log.setter
    def body_log(self, value: BodyLog | None) -> None:
        self._forwarder.body_log = value

    async def __call__(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        started = time.perf_counter()
        request_id = f"{self._id_prefix}{next(self._id_counter):012x}"
        event: UsageEvent | None = None
        self.in_flight += 1
        try:
            principal = await authenticate(self._catalog, scope, self.auth_throttle)
            method = scope["method"]
            if method == "GET":
                await self._get(principal, path, send, request_id, scope)
                return
            endpoint = ENDPOINTS.get(path)
            if endpoint is None or method != "POST":
                raise unroutable(method, scope["path"], path)
            event = UsageEvent(
                principal.workspace_id, principal.key_id, endpoint.name, request_id, id=request_id
            )
            if self._max_in_flight is not None and self.in_flight > self._max_in_flight:
                raise self._overloaded()  # recorded like any refusal
            await self._forward(scope, receive, send, path, principal, event, started)
        except ClientGone:
            if event is not None:
                event.status, event.error_code = 499, "client_disconnected"
        except RelaygateError as error:
            if event is not None:
                event.status, event.error_code = error.status, error.code
                if self._forwarder.body_log is not None:
                    event.response_body = self._forwarder.body_log.text(error.body_bytes())
            await send_error(send, error, [(b"x-request-id", request_id.encode())])
        finally:
            self.in_flight -= 1
            if event is not None:
                event.latency_ms = (time.perf_counter() - started) * 1000
                self._recorder.record(event)

    def _overloaded(self) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"relaygate is serving its limit of {self._max_in_flight} calls at once in this process "
            "(RELAYGATE_MAX_IN_FLIGHT); retry in a moment.",
            code="overloaded",
            headers={"Retry-After": "1"},
        )

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path: str,
        principal: Principal,
        event: UsageEvent,
        started: float,
    ) -> None:
        endpoint = ENDPOINTS[path]
        uploading = None  # set once a streamed upload was read whole
        body_log = self._forwarder.body_log
        if endpoint.kind == "json":
            raw = await read_body(scope, receive, self._max_body)
            if body_log is not None:
                event.request_body = body_log.text(raw)
            call = await with_fresh_model(
                self._catalog,
                principal,
                lambda: prepare(raw, endpoint, principal, self._catalog, self._guard),
            )
            path = endpoint.path
        else:
            if body_log is not None:
                declared = header(scope, b"content-length")
                event.request_body = body_log.untold("upload", int(declared) if declared else None)
            call, path, uploading = await self._special.prepare(endpoint, scope, receive, principal)
        annotate(event, call.routing, header(scope, b"x-relaygate-identity"))
        if self.tracing:
            event.trace_parent = (header(scope, b"traceparent") or b"").decode("latin-1") or None
        ticket = None
        if self.limits is not None and self.limits.active(principal.workspace_id):
            ticket = await self.limits.admit(principal, call, event)
        watch = self.disconnects.watch(receive, uploading)
        try:
            await self._forwarder.forward(call, path, send, event, started)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not watch.fired or task is None:
                raise
            task.uncancel()
            if not event.answered:
                event.status, event.error_code = 499, "client_disconnected"
        finally:
            watch.close()
            if ticket is not None and self.limits is not None:
                self.limits.settle(ticket, event)

    async def _get(self, principal: Principal, path: str, send: Send, request_id: str, scope: Scope) -> None:
        headers = [JSON_TYPE, (b"x-request-id", request_id.encode())]
        if path == "/models":
            data = [_model_object(model) for model in self._catalog.models(principal.workspace_id)]
            await send_bytes(send, 200, orjson.dumps({"object": "list", "data": data}), headers)
            return
        if path.startswith("/models/"):
            router_id = path[len("/models/") :]
            model = await self._catalog.find_model(principal.workspace_id, router_id)
            if model is None:
                raise model_not_found(router_id)
            await send_bytes(send, 200, orjson.dumps(_model_object(model)), headers)
            return
        raise unroutable("GET", scope["path"], path)
