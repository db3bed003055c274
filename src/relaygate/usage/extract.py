"""What a call consumed, from its answer or its stream, and what that cost.

Accounting (``accounting.py``) hands over what the relay already has (the parsed answer,
or the usage object the stream relay captured); this module turns it into counts. Only
when the upstream reported no usage does it count tokens offline from the prepared body
and the answer (then the event is marked ``estimated``): that costs tokenizer time, paid
only by upstreams that do not report usage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from relaygate.sse import event_object, split_events
from relaygate.usage import tokenizer

if TYPE_CHECKING:
    from relaygate.catalog import RoutableModel
    from relaygate.usage.events import UsageEvent

# Bytes of a stream kept for counting, at most; beyond that the count is extrapolated.
_STREAM_TEXT_LIMIT = 1024 * 1024
# The Responses stream events that carry new text (the ".done" ones repeat it whole).
_RESPONSES_DELTAS = ("response.output_text.delta", "response.function_call_arguments.delta")


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
        """The text a chat stream or a Responses stream carried, in its deltas."""
        pieces: list[str] = []
        for event in split_events(self.kept):
            payload = event_object(event)  # None for "[DONE]", comments, a cut-off last event
            if payload is None:
                continue
            if payload.get("type") in _RESPONSES_DELTAS and isinstance(payload.get("delta"), str):
                pieces.append(payload["delta"])
            else:
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


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def take_discarded(event: UsageEvent, usages: list[dict[str, Any]]) -> None:
    """Add the tokens of answers thrown away (strict schemas broken): they were paid for."""
    for usage in usages:
        prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
        event.prompt_tokens += prompt
        event.completion_tokens += completion
        event.total_tokens += _count(usage.get("total_tokens")) or prompt + completion


def needs_estimate(endpoint: str, usage: dict[str, Any] | None, cache_hit: bool) -> bool:
    """Whether a successful answer's tokens must be counted offline: it reported no usage,
    was not taken from the cache, and is not images (priced per image)."""
    return usage is None and not cache_hit and not endpoint.startswith("images")


def _estimate(
    event: UsageEvent,
    model: RoutableModel,
    body: Mapping[str, Any],
    answer: dict[str, Any] | None,
    stream: StreamText | None,
) -> None:
    if event.endpoint == "audio.speech" and isinstance(body.get("input"), str):
        event.audio_characters = len(body["input"])
        return
    event.prompt_tokens = tokenizer.count_prompt(body, model.model_id)
    if answer is not None:
        event.completion_tokens = tokenizer.count_text(
            _choices_text(answer.get("choices"), "message") or _output_text(answer), model.model_id
        )
    elif stream is not None:
        counted = tokenizer.count_text(stream.answer_text(), model.model_id)
        event.completion_tokens = math.ceil(counted * stream.scale)
    event.total_tokens = event.prompt_tokens + event.completion_tokens
    event.estimated = True


def _output_text(answer: dict[str, Any]) -> str:
    """The text of a Responses answer's ``output`` messages."""
    pieces: list[str] = []
    for item in answer.get("output") or ():
        for part in item.get("content") or () if isinstance(item, dict) else ():
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                pieces.append(part["text"])
    return "".join(pieces)


def settle_usage(
    event: UsageEvent,
    model: RoutableModel,
    body: Mapping[str, Any],
    *,
    answer: dict[str, Any] | None = None,
    stream: StreamText | None = None,
) -> None:
    """Finish the event's counts, estimating them when the upstream said nothing."""
    if not event.usage_seen and 0 < event.status < 400 and not event.images:
        _estimate(event, model, body, answer, stream)
