"""Forwarding one prepared call to its upstream and the answer back to the client.

Unary answers are read whole, get the router id written into ``model`` and go back
with their upstream status. Streams are relayed event by event as they arrive (see
``sse.py``). Either way one usage event is recorded when the call ends, however it ends.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from relaygate.errors import RelaygateError, UpstreamTimeout, UpstreamUnavailable
from relaygate.router.asgi import RawHeaders, send_bytes
from relaygate.router.request import PreparedCall
from relaygate.router.sse import StreamRelay
from relaygate.types import Send
from relaygate.upstream.transport import TimedOut, Transport, TransportError, UpstreamResponse
from relaygate.usage.events import UsageEvent
from relaygate.usage.pricing import token_cost_nano

log = logging.getLogger("relaygate.router")

_SSE_HEADERS: RawHeaders = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]


def upstream_error(call: PreparedCall, exc: TransportError) -> RelaygateError:
    # The client learns which model failed and how; the upstream's address stays in our log.
    log.warning("upstream of %s failed: %s", call.model.router_id, exc)
    if isinstance(exc, TimedOut):
        return UpstreamTimeout(f"The upstream of model '{call.model.router_id}' did not answer in time.")
    return UpstreamUnavailable(f"The upstream of model '{call.model.router_id}' could not be reached.")


def _content_type(response: UpstreamResponse, default: bytes) -> bytes:
    for key, value in response.headers:
        if key.lower() == "content-type":
            return value.encode()
    return default


def _relaygate_headers(call: PreparedCall, request_id: str) -> RawHeaders:
    return [
        (b"x-request-id", request_id.encode()),
        (b"x-relaygate-model", call.model.router_id.encode()),
        (b"x-relaygate-provider", call.model.provider.encode()),
        (b"x-relaygate-attempts", b"1"),
        (b"x-relaygate-fallback", b"false"),
        (b"x-relaygate-cache", b"bypass"),
    ]


class Forwarder:
    def __init__(self, transport: Transport, timeout: float) -> None:
        self._transport = transport
        self._timeout = timeout

    def _upstream_headers(self, call: PreparedCall) -> list[tuple[str, str]]:
        accept = "text/event-stream" if call.stream else "application/json"
        return [
            ("authorization", call.model.authorization),
            ("content-type", "application/json"),
            ("accept", accept),
        ]

    async def _open(self, call: PreparedCall, path: str) -> UpstreamResponse:
        try:
            return await self._transport.send(
                "POST",
                call.model.base_url + path,
                self._upstream_headers(call),
                call.payload,
                stream=call.stream,
                total_timeout=None if call.stream else self._timeout,
            )
        except TransportError as exc:
            raise upstream_error(call, exc) from None

    async def forward(
        self, call: PreparedCall, path: str, send: Send, event: UsageEvent, started: float
    ) -> None:
        event.router_model = call.model.router_id
        event.upstream_model = call.model.model_id
        event.stream = call.stream
        upstream_started = time.perf_counter()
        response = await self._open(call, path)
        event.ttfb_ms = (time.perf_counter() - started) * 1000
        is_sse = call.stream and response.status < 400 and b"event-stream" in _content_type(response, b"")
        if is_sse:
            await self._relay_stream(
                call, response, send, event, request_headers=_relaygate_headers(call, event.request_id)
            )
        else:
            await self._relay_unary(call, response, send, event, upstream_started, started)

    async def _relay_unary(
        self,
        call: PreparedCall,
        response: UpstreamResponse,
        send: Send,
        event: UsageEvent,
        upstream_started: float,
        started: float,
    ) -> None:
        try:
            body = await response.read()
        except TransportError as exc:
            raise upstream_error(call, exc) from None
        finally:
            await response.aclose()
        upstream_ms = (time.perf_counter() - upstream_started) * 1000
        event.status = response.status
        if response.status < 300 and body[:1] == b"{":
            body = self._rewrite_answer(call, body, event)
        elif response.status >= 400:
            event.error_code = "upstream_error"
        headers = _relaygate_headers(call, event.request_id)
        headers.append((b"content-type", _content_type(response, b"application/json")))
        overhead = (time.perf_counter() - started) * 1000 - upstream_ms
        event.overhead_ms = overhead
        headers.append((b"x-relaygate-overhead-ms", f"{overhead:.3f}".encode()))
        await send_bytes(send, response.status, body, headers)

    def _rewrite_answer(self, call: PreparedCall, body: bytes, event: UsageEvent) -> bytes:
        try:
            data: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if not isinstance(data, dict):
            return body
        usage = data.get("usage")
        if isinstance(usage, dict):
            self._account(call, usage, event)
        if "model" in data:
            data["model"] = call.model.router_id
            return orjson.dumps(data)
        return body

    def _account(self, call: PreparedCall, usage: dict[str, Any], event: UsageEvent) -> None:
        event.apply_usage(usage)
        event.cost_nano = token_cost_nano(
            event.prompt_tokens, event.completion_tokens, call.model.input_cost, call.model.output_cost
        )

    async def _relay_stream(
        self,
        call: PreparedCall,
        response: UpstreamResponse,
        send: Send,
        event: UsageEvent,
        request_headers: RawHeaders,
    ) -> None:
        relay = StreamRelay(call.model.model_id, call.model.router_id, hide_usage=call.hide_usage)
        headers = [
            *request_headers,
            (b"content-type", _content_type(response, b"text/event-stream")),
            *_SSE_HEADERS,
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        event.status = response.status
        try:
            async for chunk in response.chunks():
                out = relay.feed(chunk)
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
            tail = relay.flush()
            if tail:
                await send({"type": "http.response.body", "body": tail, "more_body": True})
            if not relay.saw_done and relay.events == 0:
                raise TransportError("the upstream closed the stream without sending any event")
        except TransportError as exc:
            # Headers are gone already: end the stream with an error event, never silently.
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
            await response.aclose()
            if relay.usage is not None:
                self._account(call, relay.usage, event)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
