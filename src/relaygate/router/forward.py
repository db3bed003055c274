"""Forwarding one prepared call: the plan, the cache, the attempts, the relay.

Top to bottom: the call's routing fields become a plan (``routing.py``) and every model
the plan may send it to gets its request built and checked at once (``adapters.py``:
a model that cannot serve the call is a 400 before anything leaves); the exact-match
cache answers if asked and able; the policy runs the attempts (``policy.py``), each
against one candidate model with that model's request, strict schemas checked where
relaygate emulates them (``strict_retry.py``); the answering model's response goes to
the client (``relay.py``). What happened is left in the ``RouteRecord`` and the
``Relayed`` the caller passed in, for accounting.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Protocol

import orjson

from relaygate.catalog import RoutableModel
from relaygate.deployments.invoke_answer import InvokeAdapter
from relaygate.router.adapters import Adapter, JsonAdapter, UploadAdapter, UpstreamRequest
from relaygate.router.answers import PLAIN
from relaygate.router.asgi import RawHeaders, send_bytes
from relaygate.router.cache import ResponseCache, cache_key, pack, unpack
from relaygate.router.call import PreparedCall
from relaygate.router.endpoints import EndpointKind
from relaygate.router.media import BINARY
from relaygate.router.policy import RoutePolicy, RouteRecord
from relaygate.router.relay import SSE_HEADERS, Relay, Relayed, Reply, replayed
from relaygate.router.responses_api import ResponsesAdapter
from relaygate.router.strict_retry import strict_answer
from relaygate.types import Send
from relaygate.upstream.transport import Transport, UpstreamResponse

ADAPTERS: dict[EndpointKind, Adapter] = {
    "json": JsonAdapter(),
    "binary": JsonAdapter(BINARY),
    "upload": UploadAdapter(),
    "responses": ResponsesAdapter(),
    "deployment": InvokeAdapter(),
}


class Requests:
    """Each candidate model's request for one call, built once (retries reuse it)."""

    __slots__ = ("_adapter", "_built", "_call")

    def __init__(self, call: PreparedCall) -> None:
        self._call = call
        self._adapter = ADAPTERS[call.endpoint.kind]
        self._built: dict[str, UpstreamRequest] = {}

    def for_model(self, model: RoutableModel) -> UpstreamRequest:
        request = self._built.get(model.id)
        if request is None:
            request = self._built[model.id] = self._adapter.request_for(model, self._call)
        return request


class Attempts:
    """The policy's ``OpenAttempt``: one attempt against one candidate, with its own request."""

    __slots__ = ("_record", "_requests", "_strict_retries", "_transport")

    def __init__(
        self, transport: Transport, requests: Requests, record: RouteRecord, strict_retries: int
    ) -> None:
        self._transport = transport
        self._requests = requests
        self._record = record
        self._strict_retries = strict_retries

    def streams(self, model: RoutableModel) -> bool:
        """The attempt on ``model`` is read as a stream of events (its first byte bounds failover)."""
        return self._requests.for_model(model).sse

    async def __call__(self, model: RoutableModel, total_timeout: float | None) -> UpstreamResponse:
        request = self._requests.for_model(model)
        if request.strict is None:
            return await self._send(request, total_timeout)
        return await strict_answer(
            request, lambda: self._send(request, total_timeout), self._strict_retries, self._record
        )

    async def _send(self, request: UpstreamRequest, total_timeout: float | None) -> UpstreamResponse:
        model, upload = request.model, request.upload
        accept = "text/event-stream" if request.sse else "application/json"
        if upload is not None:
            headers = [("accept", accept), *upload.headers(model.model_id)]
        else:
            headers = [("content-type", "application/json"), ("accept", accept)]
        if model.authorization:  # empty for an upstream that takes no key (Ollama, a local vLLM)
            headers.append(("authorization", model.authorization))
        return await self._transport.send(
            "POST",
            model.base_url + request.path,
            headers,
            request.payload,
            stream=request.streams,
            total_timeout=total_timeout,
            body_stream=upload.chunks(model.model_id) if upload is not None else None,
        )


def _headers(record: RouteRecord, request: UpstreamRequest, request_id: str) -> RawHeaders:
    return [*record.headers(request_id), *request.notes]


def _cacheable(request: UpstreamRequest, relayed: Relayed) -> bytes | None:
    """A whole answer as the cache keeps it: as the client got it; or, when the request's
    ``Answer`` rewrote it for this call (a deployment's invoke, a translated Responses
    call), the model's own answer, rewritten again for each call it answers."""
    if request.answer is PLAIN:
        return relayed.sent
    answer = relayed.answer
    if answer is None:
        return None
    return orjson.dumps({**answer, "model": request.model.router_id} if "model" in answer else answer)


class CallHandler(Protocol):
    """Serves the calls it ``takes`` in place of the forwarder (web search: ``router/search/``)."""

    def takes(self, call: PreparedCall) -> bool: ...

    async def forward(
        self,
        call: PreparedCall,
        send: Send,
        record: RouteRecord,
        relayed: Relayed,
        request_id: str,
        started: float,
    ) -> None: ...


class Forwarder:
    def __init__(
        self,
        transport: Transport,
        policy: RoutePolicy,
        cache: ResponseCache,
        relay: Relay,
        search: CallHandler | None = None,
    ) -> None:
        self._transport = transport
        self._policy = policy
        self._cache = cache
        self._relay = relay
        self._search = search  # calls relaygate runs web searches for

    async def forward(
        self,
        call: PreparedCall,
        send: Send,
        record: RouteRecord,
        relayed: Relayed,
        request_id: str,
        started: float,
    ) -> None:
        if self._search is not None and self._search.takes(call):
            await self._search.forward(call, send, record, relayed, request_id, started)
            return
        requests = Requests(call)
        primary = requests.for_model(call.model)
        plan = self._policy.plan(call.routing, call.model, call.allowed_models)
        if plan is not None:
            for model in plan.alternatives(call.model):
                requests.for_model(model)  # a model that cannot serve the call: 400 now
            if (
                plan.cache_ttl is not None
                and call.upload is None  # an upload's key would need its file: never cached
                and await self._answer_from_cache(
                    call, primary, plan.cache_ttl, record, relayed, send, request_id
                )
            ):
                return
        attempts = Attempts(self._transport, requests, record, self._policy.strict_retries)
        upstream_started = time.perf_counter()
        response = await self._policy.run(plan, record, attempts)
        relayed.ttfb_ms = (time.perf_counter() - started) * 1000
        request = requests.for_model(record.model)
        reply = Reply(request, response, send, _headers(record, request, request_id), relayed)
        await self._relay.relay(reply, call.stream, started, upstream_started)
        if record.cache_key is not None and relayed.status == 200 and not call.stream and relayed.sent:
            stored = _cacheable(request, relayed)
            if stored is not None:
                await self._cache.put(
                    record.cache_key, pack(record.model.router_id, stored), record.cache_ttl
                )

    async def _answer_from_cache(
        self,
        call: PreparedCall,
        primary: UpstreamRequest,
        ttl: int,
        record: RouteRecord,
        relayed: Relayed,
        send: Send,
        request_id: str,
    ) -> bool:
        """Answer from the cache when it holds this request; else note the key for storing."""
        # A checked strict answer is stored apart: the same body without checks may get another.
        kind = primary.path if primary.strict is None else primary.path + "#strict"
        key = cache_key(call.model.workspace_id, call.model.router_id, kind, primary.payload)
        record.cache, record.cache_key, record.cache_ttl = "miss", key, ttl
        entry = await self._cache.get(key)
        if entry is None:
            return False
        router_id, body = unpack(entry)
        model = self._policy.model_named(call.model.workspace_id, router_id) or call.model
        answering = primary if model is primary.model else replace(primary, model=model)
        if call.stream:
            body, replay_type = replayed(answering, body, b"application/json")
            if replay_type != b"text/event-stream":
                return False
            headers = [(b"content-type", replay_type), *SSE_HEADERS]
        else:
            if answering.answer is not PLAIN:
                body = answering.answer.rewrite(model, body)
            headers = [(b"content-type", b"application/json")]
        record.model = model
        record.cache, record.attempts = "hit", 0
        relayed.status, relayed.cache_hit = 200, True
        self._relay.keep(relayed, body)
        await send_bytes(send, 200, body, [*_headers(record, primary, request_id), *headers])
        relayed.answered = True
        return True
