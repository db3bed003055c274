"""Relaying the answering model's response to the client, and noting what went through.

Three shapes: a whole answer (read, checked, the router id written into ``model``, sent
with the upstream's status), a stream of server-sent events (relayed event by event as
they arrive, ``sse.py``), and bytes (audio, streamed through). Each fills a ``Relayed``:
what the client got and what the answer said about its usage. It never touches the
usage event: ``usage/accounting.py`` builds that from the call, the policy's outcome
and this.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import orjson

from relaygate.router.adapters import UpstreamRequest
from relaygate.router.answers import PLAIN, EventRelay
from relaygate.router.asgi import RawHeaders, send_bytes
from relaygate.router.cache import replay_as_stream
from relaygate.router.media import binary_headers, relay_bytes
from relaygate.router.policy import RETRY_HINTS, transport_failure
from relaygate.router.stream_relay import StreamRelay
from relaygate.router.upstream_answers import check_events, check_success_answer, error_answer, invalid_answer
from relaygate.sse import SseDecoder, encode_event, split_events
from relaygate.types import Send
from relaygate.upstream.transport import TransportError, UpstreamResponse
from relaygate.usage.body_log import BodyLog
from relaygate.usage.extract import StreamText

log = logging.getLogger("relaygate.router")

SSE_HEADERS: RawHeaders = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
# The upstream's x-ratelimit-* describe the provider account, not the client's key: only
# its RETRY_HINTS go on to the client, and only values that read as a delay or a date.
_HINT_VALUE = re.compile(r"[0-9A-Za-z ,.:+-]{1,64}")  # seconds, milliseconds or an HTTP date


@dataclass(slots=True)
class Relayed:
    """What went back to the client, and what the answer said it consumed."""

    status: int = 0
    error_code: str | None = None
    usage: dict[str, Any] | None = None  # the answer's or the stream's ``usage`` object
    answer: dict[str, Any] | None = None  # a whole JSON answer, parsed (images, audio, estimates)
    text: StreamText | None = None  # a stream's bytes, kept (bounded) to count tokens if need be
    body: str | None = None  # the answer as body logging keeps it (off by default)
    body_log: BodyLog | None = None  # set when the call's workspace logs bodies
    ttfb_ms: float | None = None
    overhead_ms: float | None = None
    # The client has the whole answer (a stream's end event went out): a disconnect noticed
    # after it is the client hanging up, as the OpenAI SDK does right after [DONE], not a failure.
    answered: bool = False
    cache_hit: bool = False
    sent: bytes | None = None  # a whole answer as the client got it (for the cache)
    # Web searches relaygate ran for the call (router/search/): how many, their cost, their time.
    searches: int = 0
    search_cost_nano: int = 0
    search_ms: float | None = None


def content_type(response: UpstreamResponse, default: bytes) -> bytes:
    value = response.header("content-type")
    return value.encode() if value is not None else default


def _retry_hints(response: UpstreamResponse) -> RawHeaders:
    hints: RawHeaders = []
    for name in RETRY_HINTS:
        value = response.header(name)
        if value is not None and _HINT_VALUE.fullmatch(value):
            hints.append((name.encode(), value.encode()))
    return hints


def with_router_id(body: bytes, data: dict[str, Any], router_id: str) -> bytes:
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


def replayed(request: UpstreamRequest, body: bytes, kind: bytes) -> tuple[bytes, bytes]:
    """A whole answer the client asked to stream (a checked strict answer, a cached one), as
    the stream it would have been: the chat stream, or what the request's answer makes of
    it (a translated call's own events). Unchanged when it cannot be replayed."""
    translated = request.answer is not PLAIN
    replay = replay_as_stream(body, include_usage=translated or not request.hide_usage)
    if replay is None:
        return body, kind
    if translated:
        relay = request.answer.stream_relay(request.model, request.hide_usage)
        replay = relay.on_events(split_events(replay)) + relay.on_end()
    return replay, b"text/event-stream"


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer on its way: the request its model got, the response, and where it goes."""

    request: UpstreamRequest
    response: UpstreamResponse
    send: Send
    headers: RawHeaders  # the x-relaygate-* headers and the request's notes
    relayed: Relayed  # what went through, filled as it goes


class Relay:
    def __init__(self, max_sse_event_bytes: int) -> None:
        self._max_sse_event_bytes = max_sse_event_bytes

    def keep(self, relayed: Relayed, body: bytes) -> None:
        """The answer's text for the usage event, when the call's workspace logs bodies."""
        if relayed.body_log is not None:
            relayed.body = relayed.body_log.text(body)

    def keep_stream(self, relayed: Relayed, text: StreamText) -> None:
        """``keep`` for an answer sent in pieces (kept bounded as it went)."""
        if relayed.body_log is not None:
            relayed.body = relayed.body_log.text(text.kept, text.seen)

    async def relay(self, reply: Reply, stream: bool, started: float, upstream_started: float) -> None:
        """Send the response on, filling ``reply.relayed``; ``stream``: the client asked for one.
        ``started``, ``upstream_started``: when the call came and its upstream call began."""
        response = reply.response
        if reply.request.answer.binary and response.status < 300:
            await self._binary(reply)
        elif stream and response.status < 400 and b"event-stream" in content_type(response, b""):
            await self._stream(reply)
        else:
            await self._unary(reply, stream, started, upstream_started)

    async def _unary(self, reply: Reply, stream: bool, started: float, upstream_started: float) -> None:
        request, response, relayed, headers = reply.request, reply.response, reply.relayed, reply.headers
        model = request.model
        try:
            body = await response.read()
        except TransportError as exc:
            raise transport_failure(model, exc) from None
        finally:
            await response.aclose()
        ended = time.perf_counter()
        relayed.status = status = response.status
        kind = content_type(response, b"application/json")
        if status < 400:
            check_success_answer(model.router_id, status, kind, body)
        if status < 300 and body[:1] == b"{":
            body = self._read_answer(request, body, relayed)
            if stream and request.strict is not None:
                body, kind = replayed(request, body, kind)
            elif request.answer is not PLAIN:
                body = request.answer.rewrite(model, body)
        elif status >= 400:
            relayed.error_code = "upstream_error"
            secret = model.authorization.removeprefix("Bearer ")
            body, kind = error_answer(model.router_id, status, kind, body, secret)
            body = request.answer.error(body)
            headers = [*headers, *_retry_hints(response)]
        # relaygate's own time: all of the call's but the upstream's (read whole by now)
        relayed.overhead_ms = overhead = (time.perf_counter() - started - (ended - upstream_started)) * 1000
        self.keep(relayed, body)
        relayed.sent = body
        await send_bytes(
            reply.send,
            status,
            body,
            [*headers, (b"content-type", kind), (b"x-relaygate-overhead-ms", f"{overhead:.3f}".encode())],
        )

    def _read_answer(self, request: UpstreamRequest, body: bytes, relayed: Relayed) -> bytes:
        """Take what the whole answer says it consumed; give it back with the router id."""
        try:
            data: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise invalid_answer(request.model.router_id, "sent JSON that does not parse") from None
        if not isinstance(data, dict):
            return body
        relayed.answer = data
        if isinstance(data.get("usage"), dict):
            relayed.usage = data["usage"]
        if "model" not in data:
            return body
        return with_router_id(body, data, request.model.router_id)

    async def _stream(self, reply: Reply) -> None:
        request, response, send, relayed = reply.request, reply.response, reply.send, reply.relayed
        model = request.model
        relay: EventRelay = (
            StreamRelay(model.model_id, model.router_id, hide_usage=request.hide_usage)
            if request.answer is PLAIN
            else request.answer.stream_relay(model, request.hide_usage)
        )
        start = [
            *reply.headers,
            (b"content-type", content_type(response, b"text/event-stream")),
            *SSE_HEADERS,
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": start})
        relayed.status = response.status
        relayed.text = text = StreamText()  # kept only to count tokens if the upstream reports none
        decoder = SseDecoder(self._max_sse_event_bytes)
        try:
            async for chunk in response.chunks():
                events = decoder.feed(chunk)
                if events:
                    await _pass_on(relay.on_events(events), relay, text, send, relayed)
            tail = decoder.close()  # an event the upstream did not end with a blank line
            await _pass_on(
                (relay.on_events(tail) if tail else b"") + relay.on_end(), relay, text, send, relayed
            )
            if not relay.saw_done and relay.events == 0:
                raise TransportError("the upstream closed the stream without sending any event")
        except TransportError as exc:
            if relayed.answered:  # the upstream broke off after its end event: the answer is whole
                log.info("upstream of %s failed after its stream ended: %s", model.router_id, exc)
            else:  # headers are gone already: end the stream with an error event, never silently
                error = transport_failure(model, exc)
                relayed.status, relayed.error_code = error.status, error.code
                await send(
                    {
                        "type": "http.response.body",
                        "body": encode_event(error.body_bytes()),
                        "more_body": True,
                    }
                )
        finally:
            # Noted before the await: a client that hangs up after [DONE] cancels the call
            # while the upstream's end is still on its way, and the usage is complete already.
            relayed.usage = relay.usage
            if relayed.body_log is not None:
                relayed.body = relayed.body_log.text(text.kept, text.seen)
            await response.aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _binary(self, reply: Reply) -> None:
        """Audio and other bytes: relayed as they arrive with the upstream's type and length."""
        request, response, send, relayed = reply.request, reply.response, reply.send, reply.relayed
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [*reply.headers, *binary_headers(response)],
            }
        )
        relayed.status = response.status
        if relayed.body_log is not None:
            relayed.body = relayed.body_log.untold("binary answer", None)
        try:
            await relay_bytes(response, send)
        except TransportError as exc:
            error = transport_failure(request.model, exc)
            relayed.status, relayed.error_code = error.status, error.code
            return  # the response stays unfinished: the client sees it cut off, not complete
        finally:
            await response.aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _pass_on(out: bytes, relay: EventRelay, text: StreamText, send: Send, relayed: Relayed) -> None:
    """Relayed events to the client, once checked: every batch, the stream's tail included."""
    if not out:
        return
    text.add(out)
    check_events(out)
    await send({"type": "http.response.body", "body": out, "more_body": True})
    relayed.answered = relay.saw_done
