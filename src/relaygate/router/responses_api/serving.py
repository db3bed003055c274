"""``POST /responses``: passed through when the model's upstream has it, else translated.

A model with ``supports_responses_api`` (found by the probe, or set on the model) gets
the body as it came, with the usual model rewrite, checks and defaults. Any other chat
model gets it translated onto ``/chat/completions`` and its answer, whole or streamed,
translated back; the response header ``x-relaygate-translated: chat.completions`` says so.
"""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.catalog import Catalog, Principal, RoutableModel
from relaygate.router.answers import Answer, EventRelay
from relaygate.router.asgi import RawHeaders
from relaygate.router.capabilities import (
    check_chat,
    check_tools,
    check_vision,
    remove_unsupported,
)
from relaygate.router.endpoints import Endpoint
from relaygate.router.guards import InputGuard, encode_body
from relaygate.router.request import PreparedCall, admit, apply_defaults, asked_bounds
from relaygate.router.sse import StreamRelay
from relaygate.router.strict_schemas import STRICT_HEADER, strict_contract, unstream

from .stream import ResponsesStream
from .translate import chat_to_response, request_to_chat

TRANSLATED_HEADER = (b"x-relaygate-translated", b"chat.completions")


class TranslatedAnswer(Answer):
    """A chat answer (whole or streamed) given back as the Responses answer it stands for."""

    def __init__(self, request: dict[str, Any]) -> None:
        self._request = request

    def rewrite(self, model: RoutableModel, body: bytes) -> bytes:
        try:
            chat = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if not isinstance(chat, dict):
            return body
        return orjson.dumps(chat_to_response(chat, self._request, model.router_id))

    def stream_relay(self, model: RoutableModel, hide_usage: bool) -> EventRelay:
        return ResponsesStream(self._request, model.router_id)


class PassThroughRelay(StreamRelay):
    """The upstream's own Responses events; usage is inside ``response.completed``."""

    def _usage_event(self, event: bytes) -> bytes:
        if b'"response.completed"' in event or b'"response.incomplete"' in event:
            data = b"".join(line[5:] for line in event.split(b"\n") if line.startswith(b"data:"))
            try:
                payload = orjson.loads(data)
            except orjson.JSONDecodeError:
                payload = None
            response = payload.get("response") if isinstance(payload, dict) else None
            if isinstance(response, dict) and isinstance(response.get("usage"), dict):
                self.usage = response["usage"]
        return event + b"\n\n"


class PassThroughAnswer(Answer):
    def stream_relay(self, model: RoutableModel, hide_usage: bool) -> EventRelay:
        return PassThroughRelay(model.model_id, model.router_id, hide_usage=False)


PASS_THROUGH = PassThroughAnswer()


def _pass_through(model: RoutableModel, body: dict[str, Any]) -> tuple[dict[str, Any], RawHeaders]:
    check_tools(model, body.get("tools"))
    check_vision(model, body.get("input"), "input")
    notes = remove_unsupported(model, body, ("reasoning",))
    if model.max_tokens is not None and "max_output_tokens" not in body:
        body["max_output_tokens"] = model.max_tokens
    if model.temperature is not None and "temperature" not in body:
        body["temperature"] = model.temperature
    return body, notes


def prepare_responses(
    raw: bytes, endpoint: Endpoint, principal: Principal, catalog: Catalog, guard: InputGuard | None = None
) -> tuple[PreparedCall, str]:
    """The call to make and the upstream path to make it on."""
    body, model, routing = admit(raw, endpoint, principal, catalog, guard)
    stream = body.get("stream") is True
    max_tokens, _ = asked_bounds(body)
    if model.supports("supports_responses_api"):
        body, notes = _pass_through(model, body)
        body["model"] = model.model_id
        call = PreparedCall(
            model,
            encode_body(body),
            stream,
            False,
            routing,
            answer=PASS_THROUGH,
            size=len(raw),
            max_tokens=max_tokens,
        )
        call.response_headers = notes
        return call, "/responses"
    chat = request_to_chat(body)
    strict = strict_contract(model, chat)  # before check_chat: emulated strict tools pass it
    notes = [TRANSLATED_HEADER, *check_chat(model, chat)]
    defaulted = apply_defaults(chat, model)
    chat["model"] = model.model_id
    if strict is not None:
        notes += STRICT_HEADER
        unstream(chat)  # a no-op for a whole answer; a stream is replayed once checked
    elif stream:
        chat["stream_options"] = {"include_usage": True}
    answer = TranslatedAnswer(body)
    call = PreparedCall(
        model,
        encode_body(chat),
        stream,
        False,
        routing,
        defaulted,
        answer,
        strict=strict,
        size=len(raw),
        max_tokens=max_tokens,
    )
    call.response_headers = notes
    return call, "/chat/completions"
