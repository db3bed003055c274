"""``POST /responses``: passed through when the model's upstream has it, else translated.

A model with ``supports_responses_api`` (found by the probe, or set on the model) gets
the body as it came, with the usual model rewrite, checks and defaults. Any other chat
model gets it translated onto ``/chat/completions`` and its answer, whole or streamed,
translated back; the response header ``x-relaygate-translated: chat.completions`` says so.
"""

from __future__ import annotations

from typing import Any

from relaygate.catalog import RoutableModel
from relaygate.router.adapters import UpstreamRequest, apply_defaults, chat_request
from relaygate.router.answers import Answer, ChatAnswerRewrite, EventRelay
from relaygate.router.call import PreparedCall
from relaygate.router.capabilities import check_model_type, check_tools, check_vision, remove_unsupported
from relaygate.router.guards import encode_body
from relaygate.router.stream_relay import StreamRelay
from relaygate.sse import event_object

from .stream import ResponsesStream
from .translate import chat_to_response, request_to_chat

TRANSLATED_HEADER = (b"x-relaygate-translated", b"chat.completions")


class TranslatedAnswer(ChatAnswerRewrite):
    """A chat answer (whole or streamed) given back as the Responses answer it stands for."""

    def __init__(self, request: dict[str, Any]) -> None:
        self._request = request

    def reshape(self, model: RoutableModel, chat: dict[str, Any]) -> dict[str, Any]:
        return chat_to_response(chat, self._request, model.router_id)

    def stream_relay(self, model: RoutableModel, hide_usage: bool) -> EventRelay:
        return ResponsesStream(self._request, model.router_id)


class PassThroughRelay(StreamRelay):
    """The upstream's own Responses events; usage is inside ``response.completed``."""

    def _usage_event(self, event: bytes) -> bytes:
        if b'"response.completed"' in event or b'"response.incomplete"' in event:
            payload = event_object(event)
            response = payload.get("response") if payload is not None else None
            if isinstance(response, dict) and isinstance(response.get("usage"), dict):
                self.usage = response["usage"]
        return event + b"\n\n"


class PassThroughAnswer(Answer):
    def stream_relay(self, model: RoutableModel, hide_usage: bool) -> EventRelay:
        return PassThroughRelay(model.model_id, model.router_id, hide_usage=False)


PASS_THROUGH = PassThroughAnswer()


class ResponsesAdapter:
    """``/responses`` as each model can serve it: its own API, or translated onto chat."""

    def request_for(self, model: RoutableModel, call: PreparedCall) -> UpstreamRequest:
        check_model_type(model, call.endpoint)
        body = dict(call.body)
        if model.supports("supports_responses_api"):
            check_tools(model, body.get("tools"))
            check_vision(model, body.get("input"), "input")
            notes = remove_unsupported(model, body, ("reasoning",))
            apply_defaults(body, model, "max_output_tokens")
            body["model"] = model.model_id
            return UpstreamRequest(
                model, "/responses", encode_body(body), call.stream, PASS_THROUGH, notes=notes
            )
        answer = TranslatedAnswer(body)
        return chat_request(
            model, request_to_chat(body), call.stream, "/chat/completions", answer, [TRANSLATED_HEADER]
        )
