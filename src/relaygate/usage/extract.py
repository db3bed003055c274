"""What a call consumed, from its answer or its stream, and what that cost.

The forwarder hands over what it already has (the parsed answer, or the usage object
the stream relay captured); this module turns it into counts and a price. Only when
the upstream reported no usage does it read the request and the answer again to count
tokens offline (then the event is marked ``estimated``): that costs tokenizer time,
paid only by upstreams that do not report usage.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import orjson

from relaygate.usage import tokenizer
from relaygate.usage.pricing import price_event

if TYPE_CHECKING:
    from relaygate.catalog import RoutableModel
    from relaygate.usage.events import UsageEvent

# Bytes of a stream kept for counting, at most; beyond that the count is extrapolated.
_STREAM_TEXT_LIMIT = 1024 * 1024


class StreamText:
    """The relayed stream's bytes, kept (bounded) in case tokens must be counted."""

    __slots__ = ("_chunks", "_kept", "_seen")

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._kept = 0
        self._seen = 0

    def add(self, chunk: bytes) -> None:
        self._seen += len(chunk)
        if self._kept < _STREAM_TEXT_LIMIT:
            self._chunks.append(chunk)
            self._kept += len(chunk)

    @property
    def kept(self) -> bytes:
        return b"".join(self._chunks)

    @property
    def seen(self) -> int:
        return self._seen

    @property
    def scale(self) -> float:
        """How much of the stream was not kept (1.0: all of it was)."""
        return self._seen / self._kept if self._kept else 1.0

    def answer_text(self) -> str:
        pieces: list[str] = []
        for line in self.kept.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            try:
                payload = orjson.loads(line[5:])
            except orjson.JSONDecodeError:
                continue  # "[DONE]" and anything else that is not JSON
            if isinstance(payload, dict):
                pieces.append(_choices_text(payload.get("choices"), "delta"))
        return "".join(pieces)


def _choices_text(choices: Any, part: str) -> str:
    if not isinstance(choices, list):
        return ""
    pieces: list[str] = []
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        if isinstance(choice.get("text"), str):
            pieces.append(choice["text"])
        message = choice.get(part)
        if not isinstance(message, dict):
            continue
        for key in ("content", "reasoning_content", "refusal"):
            if isinstance(message.get(key), str):
                pieces.append(message[key])
        for call in message.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                pieces.extend(str(function.get(key) or "") for key in ("name", "arguments"))
    return "".join(pieces)


def _audio_usage(event: UsageEvent, usage: dict[str, Any]) -> None:
    seconds = usage.get("seconds")
    if usage.get("type") == "duration" and isinstance(seconds, int | float):
        event.audio_seconds = float(seconds)


def take_answer(event: UsageEvent, answer: dict[str, Any]) -> None:
    """Counts from a whole JSON answer: its ``usage``, images generated, audio seconds."""
    usage = answer.get("usage")
    if isinstance(usage, dict):
        event.apply_usage(usage)
        _audio_usage(event, usage)
    if event.endpoint.startswith("images") and isinstance(answer.get("data"), list):
        event.images = len(answer["data"])
    duration = answer.get("duration")
    if event.endpoint.startswith("audio") and isinstance(duration, int | float):
        event.audio_seconds = float(duration)


def _estimate(
    event: UsageEvent,
    model: RoutableModel,
    payload: bytes,
    answer: dict[str, Any] | None,
    stream: StreamText | None,
) -> None:
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return
    if not isinstance(body, dict):
        return
    if event.endpoint == "audio.speech" and isinstance(body.get("input"), str):
        event.audio_characters = len(body["input"])
        return
    event.prompt_tokens = tokenizer.count_prompt(body, model.model_id)
    if answer is not None:
        event.completion_tokens = tokenizer.count_text(
            _choices_text(answer.get("choices"), "message"), model.model_id
        )
    elif stream is not None:
        counted = tokenizer.count_text(stream.answer_text(), model.model_id)
        event.completion_tokens = math.ceil(counted * stream.scale)
    event.total_tokens = event.prompt_tokens + event.completion_tokens
    event.estimated = True


def settle_usage(
    event: UsageEvent,
    model: RoutableModel,
    payload: bytes,
    *,
    answer: dict[str, Any] | None = None,
    stream: StreamText | None = None,
) -> None:
    """Finish the event's counts (estimating them when the upstream said nothing) and price it."""
    if not event.usage_seen and 0 < event.status < 400 and not event.images:
        _estimate(event, model, payload, answer, stream)
    price_event(event, model)
