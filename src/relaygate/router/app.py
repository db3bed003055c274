"""The data plane's ASGI entry: authenticate, prepare, admit, forward, account.

Per request: one SHA-256 and one dict lookup for the key, one dict lookup for the
model, one upstream call on a pooled connection, one append to the usage queue.
The path of a call, function by function, is in docs/architecture.md.

``RouterApp.serve`` is that machinery once, for every kind of data-plane request: a
``Surface`` says which call a request is, how its body becomes a ``PreparedCall`` and how
its errors read. The router's own endpoints are one (``RouterEndpoints``); a deployment's
invoke is another (``deployments/invoke_app.py``), so both are authenticated, shed,
admitted, forwarded and accounted by the same code.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

import orjson

from relaygate.auth import AuthThrottle, authenticate
from relaygate.catalog import Catalog, Principal, RoutableModel
from relaygate.errors import MethodNotAllowed, NotFound, RelaygateError, ServiceUnavailable
from relaygate.limits import Limiter
from relaygate.router.asgi import (
    JSON_TYPE,
    ClientGone,
    RawHeaders,
    header,
    read_body,
    send_bytes,
    send_error,
)
from relaygate.router.call import DisabledModel, PreparedCall, UnknownModel, prepare_json, with_fresh_model
from relaygate.router.disconnects import DisconnectWatcher
from relaygate.router.endpoints import ENDPOINTS, Endpoint
from relaygate.router.forward import Forwarder
from relaygate.router.guards import InputGuard
from relaygate.router.policy import RouteRecord
from relaygate.router.relay import Relayed
from relaygate.router.uploads import prepare_upload
from relaygate.types import Receive, Scope, Send
from relaygate.usage import tokenizer
from relaygate.usage.accounting import CallEnd, account
from relaygate.usage.body_log import BodyLog
from relaygate.usage.recorder import UsageRecorder

log = logging.getLogger("relaygate.router")

PREFIXES = ("/v3/router", "/v2/router")


def _model_object(model: RoutableModel) -> dict[str, Any]:
    return {"id": model.router_id, "object": "model", "created": model.created, "owned_by": model.provider}


def unroutable(method: str, full_path: str, path: str) -> RelaygateError:
    """A request no route takes: 405 (with ``Allow``) for a known path, else 404, as OpenAI answers."""
    if path in ENDPOINTS:
        return MethodNotAllowed(method, full_path, "POST")
    if path == "/models" or path.startswith("/models/"):
        return MethodNotAllowed(method, full_path, "GET")
    return NotFound(
        f"Unknown router endpoint: {method} {full_path}. See the OpenAI API reference.", code="unknown_url"
    )


@dataclass(frozen=True, slots=True)
class RouterLimits:
    """The router's bounds on what it reads and serves (settings)."""

    max_body: int  # a JSON body, in bytes
    max_upload: int  # a multipart body, in bytes
    max_in_flight: int = 0  # calls at once in this process (0: no bound)


Route = TypeVar("Route")
# A prepared call, and (for an upload still streaming) when its body is read whole; None:
# the surface answered without a model call (nothing is admitted, forwarded or accounted).
Prepared = tuple[PreparedCall, asyncio.Event | None] | None


class Surface(Protocol[Route]):
    """One family of data-plane requests, served through ``RouterApp.serve``."""

    async def route(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal, path: str, request_id: str
    ) -> Route | None:
        """What an authenticated request asks for; None when the surface answered it itself
        (a listing, a rendered configuration: no model call, nothing accounted). A 404 or
        405 when nothing here serves it."""
        ...

    def endpoint_name(self, route: Route) -> str:
        """The name its usage event records."""
        ...

    async def prepare(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal, route: Route, end: CallEnd
    ) -> Prepared: ...

    async def send_error(self, send: Send, error: RelaygateError, headers: RawHeaders) -> None: ...


class RouterApp:
    """The data plane's machinery: each request goes top to bottom through ``serve``."""

    def __init__(
        self,
        catalog: Catalog,
        forwarder: Forwarder,
        recorder: UsageRecorder,
        bounds: RouterLimits,
        guard: InputGuard,
        auth_throttle: AuthThrottle,
        limits: Limiter,
        disconnects: DisconnectWatcher,
        *,
        body_log: BodyLog | None = None,
        log_bodies: bool = False,
        tracing: bool = False,
    ) -> None:
        self._catalog = catalog
        self._forwarder = forwarder
        self._recorder = recorder
        self._auth_throttle = auth_throttle
        self._limits = limits
        self._disconnects = disconnects
        # Requests and answers kept in usage events: per workspace (its own choice in the
        # catalog, else the server's RELAYGATE_LOG_BODIES), decided once per call.
        self._body_log = body_log
        self._log_bodies = log_bodies
        self._tracing = tracing  # keep the client's traceparent for OpenTelemetry
        self._endpoints = RouterEndpoints(catalog, bounds, guard)
        # Load shedding: past this many calls at once, new ones get a 503 with Retry-After
        # (the SDKs retry those) instead of queueing until memory runs out.
        self._max_in_flight = bounds.max_in_flight or None
        self.in_flight = 0
        # Request ids: a random per-process prefix and a counter, unique across processes
        # without a getrandom() call per request.
        self._id_prefix = "req_" + secrets.token_hex(6)
        self._id_counter = itertools.count()

    async def __call__(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        await self.serve(scope, receive, send, path, self._endpoints)

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, path: str, surface: Surface[Route]
    ) -> None:
        """One request of ``surface``: authenticate, route, shed, prepare, admit, forward, account."""
        started = time.perf_counter()
        request_id = f"{self._id_prefix}{next(self._id_counter):012x}"
        end: CallEnd | None = None
        self.in_flight += 1
        try:
            principal = await authenticate(self._catalog, scope, self._auth_throttle)
            route = await surface.route(scope, receive, send, principal, path, request_id)
            if route is None:
                return
            end = CallEnd(principal.workspace_id, principal.key_id, surface.endpoint_name(route), request_id)
            end.body_log = self._body_log_for(principal.workspace_id)
            if self._tracing:
                end.trace_parent = (header(scope, b"traceparent") or b"").decode("latin-1") or None
            if self._max_in_flight is not None and self.in_flight > self._max_in_flight:
                raise self._overloaded()  # recorded like any refusal
            if not await self._call(scope, receive, send, principal, surface, route, end, started):
                end = None  # answered without a model call: nothing to account
        except ClientGone:
            if end is not None:
                end.gone = True
        except RelaygateError as error:
            if end is not None:
                _refused(end, error)
            await surface.send_error(send, error, [(b"x-request-id", request_id.encode())])
        finally:
            self.in_flight -= 1
            if end is not None:
                await self._account(end, started)

    def _body_log_for(self, workspace_id: str) -> BodyLog | None:
        """The call's body log: its workspace's own choice, else the server's default."""
        logs = self._catalog.logs_bodies(workspace_id)
        return self._body_log if logs or (logs is None and self._log_bodies) else None

    async def _call(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        principal: Principal,
        surface: Surface[Route],
        route: Route,
        end: CallEnd,
        started: float,
    ) -> bool:
        """One call, top to bottom: prepare, admit, forward (plan, attempts, relay). False:
        the surface answered it without a model call."""
        prepared = await surface.prepare(scope, receive, send, principal, route, end)
        if prepared is None:
            return False
        call, uploading = prepared
        if principal.allowed_models is not None and call.routing:
            call = replace(call, allowed_models=principal.allowed_models)  # fallbacks: routing.py
        end.call = call
        if self._limits.active(principal.workspace_id):
            end.ticket = await self._limits.admit(principal, call)
        end.record, end.relayed = record, relayed = RouteRecord(call.model), Relayed(body_log=end.body_log)
        if end.ticket is not None:
            record.limit_headers = end.ticket.headers
        watch = self._disconnects.watch(receive, uploading)
        try:
            await self._forwarder.forward(call, send, record, relayed, end.request_id, started)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not watch.fired or task is None:
                raise
            task.uncancel()  # the client hung up: the call ends here, and is accounted
            end.gone = True
        finally:
            watch.close()
        return True

    async def _account(self, end: CallEnd, started: float) -> None:
        """Build the call's usage event, settle its limits, queue it for storing."""
        end.latency_ms = (time.perf_counter() - started) * 1000
        model_id = end.estimating_model()
        task = asyncio.current_task()
        try:
            # The tokenizer loads off the event loop, once per process; not for a call being
            # cancelled (a drain running out): shutdown would flush before the event was queued.
            if model_id is not None and not tokenizer.is_loaded(model_id) and task and not task.cancelling():
                await tokenizer.ensure_loaded(model_id)
        finally:  # loading was skipped or cancelled: the count loads on this thread, never lost
            event = account(end)
            if end.ticket is not None:
                self._limits.settle(end.ticket, event)
            self._recorder.record(event)

    def _overloaded(self) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"relaygate is serving its limit of {self._max_in_flight} calls at once in this process "
            "(RELAYGATE_MAX_IN_FLIGHT); retry in a moment.",
            code="overloaded",
            headers={"Retry-After": "1"},
        )


def _refused(end: CallEnd, error: RelaygateError) -> None:
    """The call ended in ``error``: what its usage event keeps of it."""
    end.error = error
    if isinstance(error, UnknownModel | DisabledModel):  # the log shows the name asked for
        end.asked_model = error.router_id
    if end.body_log is not None:
        end.error_body = end.body_log.text(error.body_bytes())


class RouterEndpoints:
    """``/v3/router`` (and ``/v2/router``): the OpenAI endpoints, GET /models, and their bodies."""

    def __init__(self, catalog: Catalog, bounds: RouterLimits, guard: InputGuard) -> None:
        self._catalog = catalog
        self._bounds = bounds
        self._guard = guard

    async def route(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal, path: str, request_id: str
    ) -> Endpoint | None:
        method = scope["method"]
        if method == "GET":
            await self._get(principal, path, send, request_id, scope)
            return None
        endpoint = ENDPOINTS.get(path)
        if endpoint is None or method != "POST":
            raise unroutable(method, scope["path"], path)
        return endpoint

    def endpoint_name(self, route: Endpoint) -> str:
        return route.name

    async def send_error(self, send: Send, error: RelaygateError, headers: RawHeaders) -> None:
        await send_error(send, error, headers)

    async def prepare(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal, route: Endpoint, end: CallEnd
    ) -> tuple[PreparedCall, asyncio.Event | None]:
        """The prepared call, and (for an upload still streaming) when its body is read whole."""
        endpoint = route
        if endpoint.kind == "upload":
            if end.body_log is not None:
                declared = header(scope, b"content-length")
                end.request_body = end.body_log.untold("upload", int(declared) if declared else None)
            return await prepare_upload(
                endpoint, scope, receive, principal, self._catalog, self._bounds.max_upload
            )
        raw = await read_body(scope, receive, self._bounds.max_body)
        if end.body_log is not None:
            end.request_body = end.body_log.text(raw)
        identity = header(scope, b"x-relaygate-identity")
        call = await with_fresh_model(
            self._catalog,
            principal,
            lambda: prepare_json(raw, endpoint, principal, self._catalog, self._guard, identity),
        )
        return call, None

    async def _get(self, principal: Principal, path: str, send: Send, request_id: str, scope: Scope) -> None:
        headers = [JSON_TYPE, (b"x-request-id", request_id.encode())]
        if path == "/models":
            data = [_model_object(model) for model in self._catalog.models_for(principal)]
            await send_bytes(send, 200, orjson.dumps({"object": "list", "data": data}), headers)
            return
        if path.startswith("/models/"):
            router_id = path[len("/models/") :]
            model = None
            if principal.may_use(router_id):
                model = await self._catalog.find_model(principal.workspace_id, router_id)
            if model is None:
                raise UnknownModel(router_id)
            await send_bytes(send, 200, orjson.dumps(_model_object(model)), headers)
            return
        raise unroutable("GET", scope["path"], path)
