"""Forwarding one prepared call to its upstream and the answer back to the client.

Unary answers are read whole, get the router id written into ``model`` and go back
with their upstream status. Streams are relayed event by event as they arrive (see
``sse.py``). Either way one usage event is recorded when the call ends, however it ends.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from typing import Any

import orjson

from relaygate.catalog import RoutableModel
from relaygate.errors import RelaygateError
from relaygate.router.answers import EventRelay
from relaygate.router.asgi import RawHeaders, send_bytes
from relaygate.router.cache import ResponseCache, cache_key, pack, replay_as_stream, unpack
from relaygate.router.media import binary_headers, relay_bytes
from relaygate.router.policy import RETRY_HINTS, OpenAttempt, RoutePolicy, RouteRecord, transport_failure
from relaygate.router.request import PreparedCall
from relaygate.router.routing import RoutingPlan, payload_for
from relaygate.router.sse import MAX_EVENT_BYTES, SseDecoder, StreamRelay
from relaygate.router.strict_retry import StrictAttempts
from relaygate.router.upstream_answers import (
    check_events,
    check_success_answer,
    error_answer,
    invalid_answer,
)
from relaygate.types import Send
from relaygate.upstream.transport import Transport, TransportError, UpstreamResponse
from relaygate.usage.body_log import BodyLog
from relaygate.usage.events import UsageEvent
from relaygate.usage.extract import StreamText, settle_usage, take_answer
from relaygate.usage.pricing import price_event

log = logging.getLogger("relaygate.router")

_SSE_HEADERS: RawHeaders = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
# The upstream's x-ratelimit-* describe the provider account, not the client's key: only
# its RETRY_HINTS go on to the client, and only values that read as a delay or a date.
_HINT_VALUE = re.compile(r"[0-9A-Za-z ,.:+-]{1,64}")  # seconds, milliseconds or an HTTP date


def upstream_error(call: PreparedCall, exc: TransportError) -> RelaygateError:
    return transport_failure(call.model, exc)


def _content_type(response: UpstreamResponse, default: bytes) -> bytes:
    value = response.header("content-type")
    return value.encode() if value is not None else default


def _retry_hints(response: UpstreamResponse) -> RawHeaders:
    hints: RawHeaders = []
    for name in RETRY_HINTS:
        value = response.header(name)
        if value is not None and _HINT_VALUE.fullmatch(value):
            hints.append((name.encode(), value.encode()))
    return hints


def _relaygate_headers(call: PreparedCall, record: RouteRecord, request_id: str) -> RawHeaders:
    return [*record.headers(request_id), *call.response_headers]


def _with_router_id(body: bytes, data: dict[str, Any], router_id: str) -> bytes:
    """The answer with the router id as its top-level ``model``.

    Usually by replacing bytes, as the stream relay does (re-encoding the whole answer cost
    more): when the compact ``"model":<value>`` occurs exactly once and no spaced
    ``"model": `` occurs at all, that one occurrence is the top-level field (inside a
    string the quotes would be escaped). Anything else is re-encoded from the parsed answer.
    """
    value = data["model"]
    if isinstance(value, str) and b'"model": ' not in body:
        old = b'"model":' + orjson.dumps(value)
        if body.count(old) == 1:
            return body.replace(old, b'"model":' + orjson.dumps(router_id))
    data["model"] = router_id
    return orjson.dumps(data)


async def _pass_on(out: bytes, relay: EventRelay, relayed: StreamText, send: Send, event: UsageEvent) -> None:
    """Relayed events to the client, once checked: every batch, the stream's tail included."""
    if not out:
        return
    relayed.add(out)
    check_events(out)
    await send({"type": "http.response.body", "body": out, "more_body": True})
    event.answered = relay.saw_done


def _replayed(call: PreparedCall, body: bytes, content_type: bytes) -> tuple[bytes, bytes]:
    """A checked strict answer the client asked to stream, as the stream it would have been:
    the chat stream, or what the call's answer makes of it (a translated call's own events)."""
    replay = replay_as_stream(body, include_usage=call.answer is not None or not call.hide_usage)
    if replay is None:
        return body, content_type
    if call.answer is not None:
        relay = call.answer.stream_relay(call.model, call.hide_usage)
        replay = relay.on_events(SseDecoder(len(replay)).feed(replay)) + relay.on_end()
    return replay, b"text/event-stream"


class Forwarder:
    def __init__(
        self,
        transport: Transport,
        policy: RoutePolicy,
        cache: ResponseCache,
        *,
        max_sse_event_bytes: int = MAX_EVENT_BYTES,
    ) -> None:
        self._transport = transport
        self._policy = policy
        self._cache = cache
        self._max_sse_event_bytes = max_sse_event_bytes
        self.body_log: BodyLog | None = None  # set by the runtime when body logging is on

    def _upstream_headers(self, call: PreparedCall, model: RoutableModel) -> list[tuple[str, str]]:
        accept = "text/event-stream" if call.streams_upstream else "application/json"
        if call.upload is not None:
            headers = [("accept", accept), *call.upload.headers(model.model_id)]
        else:
            headers = [("content-type", "application/json"), ("accept", accept)]
        if model.authorization:  # empty for an upstream that takes no key (Ollama, a local vLLM)
            headers.append(("authorization", model.authorization))
        return headers

    async def _open(
        self, call: PreparedCall, path: str, model: RoutableModel, total_timeout: float | None
    ) -> UpstreamResponse:
        """One attempt against one candidate model: the policy's ``OpenAttempt``."""
        return await self._transport.send(
            "POST",
            model.base_url + path,
            self._upstream_headers(call, model),
            payload_for(call, model),
            stream=call.streams_upstream or (call.answer is not None and call.answer.binary),
            total_timeout=total_timeout,
            body_stream=call.upload.chunks(model.model_id) if call.upload is not None else None,
        )

    async def forward(
        self, call: PreparedCall, path: str, send: Send, event: UsageEvent, started: float
    ) -> None:
        event.stream = call.stream
        record = RouteRecord(call.model)
        plan = self._policy.plan(call)
        if (
            plan is not None
            and plan.cache_ttl is not None
            and call.upload is None  # an upload's key would need its file: never cached
            and await self._answer_from_cache(call, path, plan.cache_ttl, record, send, event)
        ):
            return
        opener: OpenAttempt = functools.partial(self._open, call, path)
        if call.strict is None:
            await self._answer_from_upstream(call, path, plan, record, send, event, started, opener)
            return
        strict = StrictAttempts(call.strict, opener, self._policy.strict_retries, record)
        try:
            await self._answer_from_upstream(call, path, plan, record, send, event, started, strict)
        finally:
            strict.account(event, call.model)

    async def _answer_from_upstream(
        self,
        call: PreparedCall,
        path: str,
        plan: RoutingPlan | None,
        record: RouteRecord,
        send: Send,
        event: UsageEvent,
        started: float,
        opener: OpenAttempt,
    ) -> None:
        upstream_started = time.perf_counter()
        try:
            response = await self._policy.run(plan, record, opener, stream=call.streams_upstream)
        finally:
            call.model = record.model  # the model that answered: its id, prices and headers
            event.router_model, event.upstream_model = call.model.router_id, call.model.model_id
            event.attempts, event.fallback_used = record.attempts, record.fallback
        event.ttfb_ms = (time.perf_counter() - started) * 1000
        is_sse = call.stream and response.status < 400 and b"event-stream" in _content_type(response, b"")
        if call.answer is not None and call.answer.binary and response.status < 300:
            await self._relay_binary(call, response, send, event, record)
        elif is_sse:
            headers = _relaygate_headers(call, record, event.request_id)
            await self._relay_stream(call, response, send, event, request_headers=headers)
        else:
            await self._relay_unary(call, response, send, event, upstream_started, started, record)

    async def _answer_from_cache(
        self,
        call: PreparedCall,
        path: str,
        ttl: int,
        record: RouteRecord,
        send: Send,
        event: UsageEvent,
    ) -> bool:
        """Answer from the cache when it holds this request; else note the key for storing."""
        # A checked strict answer is stored apart: the same body without checks may get another.
        kind = path if call.strict is None else path + "#strict"
        key = cache_key(call.model.workspace_id, call.model.router_id, kind, call.payload)
        record.cache, record.cache_key, record.cache_ttl = "miss", key, ttl
        entry = await self._cache.get(key)
        if entry is None:
            return False
        router_id, body = unpack(entry)
        if call.stream:
            replay = replay_as_stream(body, include_usage=not call.hide_usage)
            if replay is None:
                return False
            body, headers = replay, [(b"content-type", b"text/event-stream"), *_SSE_HEADERS]
        else:
            headers = [(b"content-type", b"application/json")]
        record.model = self._policy.model_named(call.model.workspace_id, router_id) or call.model
        record.cache, record.attempts = "hit", 0
        event.router_model, event.upstream_model = record.model.router_id, record.model.model_id
        event.status, event.attempts, event.cache_hit = 200, 0, True
        if self.body_log is not None:
            event.response_body = self.body_log.text(body)
        await send_bytes(send, 200, body, [*_relaygate_headers(call, record, event.request_id), *headers])
        return True

    async def _relay_unary(
        self,
        call: PreparedCall,
        response: UpstreamResponse,
        send: Send,
        event: UsageEvent,
        upstream_started: float,
        started: float,
        record: RouteRecord,
    ) -> None:
        try:
            body = await response.read()
        except TransportError as exc:
            raise upstream_error(call, exc) from None
        finally:
            await response.aclose()
        upstream_ms = (time.perf_counter() - upstream_started) * 1000
        event.status = response.status
        content_type = _content_type(response, b"application/json")
        if response.status < 400:
            check_success_answer(call.model.router_id, response.status, content_type, body)
        if response.status < 300 and body[:1] == b"{":
            body = self._rewrite_answer(call, body, event)
            if call.stream and call.strict is not None:
                body, content_type = _replayed(call, body, content_type)
            elif call.answer is not None:
                body = call.answer.rewrite(call.model, body)
        elif response.status >= 400:
            event.error_code = "upstream_error"
            secret = call.model.authorization.removeprefix("Bearer ")
            body, content_type = error_answer(
                call.model.router_id, response.status, content_type, body, secret
            )
        headers = _relaygate_headers(call, record, event.request_id)
        headers.append((b"content-type", content_type))
        if response.status >= 400:
            headers += _retry_hints(response)
        overhead = (time.perf_counter() - started) * 1000 - upstream_ms
        event.overhead_ms = overhead
        headers.append((b"x-relaygate-overhead-ms", f"{overhead:.3f}".encode()))
        if self.body_log is not None:
            event.response_body = self.body_log.text(body)
        await send_bytes(send, response.status, body, headers)
        if record.cache_key is not None and response.status == 200 and not call.stream:
            await self._cache.put(record.cache_key, pack(call.model.router_id, body), record.cache_ttl)

    def _rewrite_answer(self, call: PreparedCall, body: bytes, event: UsageEvent) -> bytes:
        try:
            data: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise invalid_answer(call.model.router_id, "sent JSON that does not parse") from None
        if not isinstance(data, dict):
            return body
        take_answer(event, data)
        settle_usage(event, call.model, call.payload, answer=data)
        if "model" not in data:
            return body
        return _with_router_id(body, data, call.model.router_id)

    def _account(self, call: PreparedCall, usage: dict[str, Any], event: UsageEvent) -> None:
        event.apply_usage(usage)
        price_event(event, call.model)

    async def _relay_stream(
        self,
        call: PreparedCall,
        response: UpstreamResponse,
        send: Send,
        event: UsageEvent,
        request_headers: RawHeaders,
    ) -> None:
        relay: EventRelay = (
            call.answer.stream_relay(call.model, call.hide_usage)
            if call.answer is not None
            else StreamRelay(call.model.model_id, call.model.router_id, hide_usage=call.hide_usage)
        )
        headers = [
            *request_headers,
            (b"content-type", _content_type(response, b"text/event-stream")),
            *_SSE_HEADERS,
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        event.status = response.status
        relayed = StreamText()  # kept only to count tokens if the upstream reports none
        decoder = SseDecoder(self._max_sse_event_bytes)
        try:
            async for chunk in response.chunks():
                events = decoder.feed(chunk)
                if events:
                    await _pass_on(relay.on_events(events), relay, relayed, send, event)
            tail = decoder.close()  # an event the upstream did not end with a blank line
            await _pass_on(
                (relay.on_events(tail) if tail else b"") + relay.on_end(), relay, relayed, send, event
            )
            if not relay.saw_done and relay.events == 0:
                raise TransportError("the upstream closed the stream without sending any event")
        except TransportError as exc:
            if event.answered:  # the upstream broke off after its end event: the answer is whole
                log.info("upstream of %s failed after its stream ended: %s", call.model.router_id, exc)
            else:  # headers are gone already: end the stream with an error event, never silently
                error = upstream_error(call, exc)
                event.status, event.error_code = error.status, error.code
                await send(
                    {
                        "type": "http.response.body",
                        "body": b"data: " + error.body_bytes() + b"\n\n",
                        "more_body": True,
                    }
                )
        finally:
            # Accounted before the await: a client that hangs up after [DONE] cancels the call
            # while the upstream's end is still on its way, and the usage is complete already.
            if self.body_log is not None:
                event.response_body = self.body_log.text(relayed.kept, relayed.seen)
            if relay.usage is not None:
                self._account(call, relay.usage, event)
            else:
                settle_usage(event, call.model, call.payload, stream=relayed)
            await response.aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _relay_binary(
        self,
        call: PreparedCall,
        response: UpstreamResponse,
        send: Send,
        event: UsageEvent,
        record: RouteRecord,
    ) -> None:
        """Audio and other bytes: relayed as they arrive with the upstream's type and length."""
        headers = [*_relaygate_headers(call, record, event.request_id), *binary_headers(response)]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        event.status = response.status
        try:
            await relay_bytes(response, send)
        except TransportError as exc:
            error = upstream_error(call, exc)
            event.status, event.error_code = error.status, error.code
            return  # the response stays unfinished: the client sees it cut off, not complete
        finally:
            await response.aclose()
            settle_usage(event, call.model, call.payload)  # speech: the input's characters
            if self.body_log is not None:
                event.response_body = self.body_log.untold("binary answer", None)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
