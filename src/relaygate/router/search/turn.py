"""One round's chat answer, whole or streamed, read into a ``Turn``: text, tool calls, usage.

A streamed round hands each text delta on as it arrives (``on_text``), so the client sees
the answer's words while the model writes them; tool calls are gathered from their deltas
(by ``index``) and come out whole with the turn. Usage objects of several rounds are summed
(``add_usage``): a call that searched paid for every round.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from relaygate.catalog import RoutableModel
from relaygate.errors import RelaygateError, UpstreamUnavailable
from relaygate.router.policy import transport_failure
from relaygate.router.relay import content_type
from relaygate.router.responses_api.protocol import as_dict, as_list
from relaygate.router.upstream_answers import check_success_answer, invalid_answer
from relaygate.security.redaction import redact
from relaygate.sse import SseDecoder, event_object, is_done
from relaygate.upstream.transport import TransportError, UpstreamResponse

TextSink = Callable[[str], Awaitable[None]]


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str

    def message_part(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(slots=True)
class Turn:
    """The model's answer in one round."""

    text: str = ""
    refusal: str | None = None
    calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    id: str | None = None  # the upstream's chat completion id


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def add_usage(total: dict[str, Any] | None, usage: dict[str, Any] | None) -> dict[str, Any] | None:
    """Two chat ``usage`` objects as one (either may be None)."""
    if usage is None:
        return total
    if total is None:
        total = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    prompt, completion = _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))
    cached = _int((usage.get("prompt_tokens_details") or {}).get("cached_tokens"))
    reasoning = _int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens"))
    return {
        "prompt_tokens": total["prompt_tokens"] + prompt,
        "completion_tokens": total["completion_tokens"] + completion,
        "total_tokens": total["total_tokens"] + (_int(usage.get("total_tokens")) or prompt + completion),
        "prompt_tokens_details": {
            "cached_tokens": _int((total.get("prompt_tokens_details") or {}).get("cached_tokens")) + cached
        },
        "completion_tokens_details": {
            "reasoning_tokens": _int((total.get("completion_tokens_details") or {}).get("reasoning_tokens"))
            + reasoning
        },
    }


def _calls(parts: Any) -> list[ToolCall]:
    calls = []
    for part in parts if isinstance(parts, list) else ():
        function = part.get("function") if isinstance(part, dict) else None
        if isinstance(function, dict):
            calls.append(
                ToolCall(
                    str(part.get("id") or f"call_{secrets.token_hex(8)}"),
                    str(function.get("name") or ""),
                    str(function.get("arguments") or ""),
                )
            )
    return calls


def _first_choice(answer: dict[str, Any]) -> dict[str, Any]:
    choices = as_list(answer.get("choices"))
    return as_dict(choices[0] if choices else None)


def whole_turn(model: RoutableModel, response: UpstreamResponse, body: bytes) -> Turn:
    """A whole chat answer (HTTP 2xx) as a turn."""
    check_success_answer(model.router_id, response.status, content_type(response, b"application/json"), body)
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid_answer(model.router_id, "sent JSON that does not parse") from None
    answer = as_dict(answer)
    choice = _first_choice(answer)
    message = as_dict(choice.get("message"))
    text, refusal = message.get("content"), message.get("refusal")
    return Turn(
        text=text if isinstance(text, str) else "",
        refusal=refusal if isinstance(refusal, str) and refusal else None,
        calls=_calls(message.get("tool_calls")),
        finish_reason=choice.get("finish_reason"),
        usage=answer.get("usage") if isinstance(answer.get("usage"), dict) else None,
        id=answer.get("id") if isinstance(answer.get("id"), str) else None,
    )


class _StreamedTurn:
    """A turn gathered from chat chunks."""

    def __init__(self, model: RoutableModel) -> None:
        self.model = model
        self.turn = Turn()
        self._texts: list[str] = []
        self._refusals: list[str] = []
        self._calls: dict[int, tuple[str, str, list[str]]] = {}
        self.done = False
        self.events = 0

    def take(self, chunk: dict[str, Any]) -> str:
        """The text delta of one chunk ("" for none); everything else is kept."""
        self.events += 1
        error = chunk.get("error")
        if isinstance(error, dict | str):
            raise self._stream_error(error)
        if isinstance(chunk.get("usage"), dict):
            self.turn.usage = chunk["usage"]
        if self.turn.id is None and isinstance(chunk.get("id"), str):
            self.turn.id = chunk["id"]
        choice = _first_choice(chunk)
        delta = as_dict(choice.get("delta"))
        for part in delta.get("tool_calls") or ():
            if isinstance(part, dict):
                self._call_delta(part)
        if isinstance(delta.get("refusal"), str):
            self._refusals.append(delta["refusal"])
        if choice.get("finish_reason"):
            self.turn.finish_reason = choice["finish_reason"]
        text = delta.get("content")
        if isinstance(text, str) and text:
            self._texts.append(text)
            return text
        return ""

    def _call_delta(self, part: dict[str, Any]) -> None:
        index = part.get("index")
        index = index if isinstance(index, int) else len(self._calls)
        function = as_dict(part.get("function"))
        call_id, name, arguments = self._calls.get(index, ("", "", []))
        call_id = call_id or str(part.get("id") or "")
        name = name or str(function.get("name") or "")
        if isinstance(function.get("arguments"), str):
            arguments.append(function["arguments"])
        self._calls[index] = (call_id, name, arguments)

    def _stream_error(self, error: dict[str, Any] | str) -> RelaygateError:
        said = error.get("message") if isinstance(error, dict) else error
        secret = self.model.authorization.removeprefix("Bearer ")
        text = redact(str(said or "no message"), (secret,) if secret else ())[:500]
        return UpstreamUnavailable(
            f"The upstream of model '{self.model.router_id}' sent an error mid-answer: {text}",
            code="upstream_error",
        )

    def finish(self) -> Turn:
        turn = self.turn
        turn.text = "".join(self._texts)
        turn.refusal = "".join(self._refusals) or None
        turn.calls = [
            ToolCall(call_id or f"call_{secrets.token_hex(8)}", name, "".join(arguments))
            for call_id, name, arguments in (self._calls[index] for index in sorted(self._calls))
        ]
        return turn


async def streamed_turn(
    model: RoutableModel, response: UpstreamResponse, max_event_bytes: int, on_text: TextSink
) -> Turn:
    """A chat stream as a turn, its text deltas handed to ``on_text`` as they come."""
    reader = _StreamedTurn(model)
    decoder = SseDecoder(max_event_bytes)
    try:
        async for chunk in response.chunks():
            for event in decoder.feed(chunk):
                await _take(reader, event, on_text)
            if reader.done:
                break
        for event in decoder.close():
            await _take(reader, event, on_text)
    except TransportError as exc:
        raise transport_failure(model, exc) from None
    if not reader.done and reader.events == 0:
        raise invalid_answer(model.router_id, "closed the stream without sending any event")
    return reader.finish()


async def _take(reader: _StreamedTurn, event: bytes, on_text: TextSink) -> None:
    chunk = event_object(event)
    if chunk is None:
        reader.done = reader.done or is_done(event)
        return
    text = reader.take(chunk)
    if text:
        await on_text(text)
