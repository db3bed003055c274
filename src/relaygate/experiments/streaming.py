"""One generation, streamed through the router in process, read as it arrives.

The call is the one a client would make (``stream: true`` with ``include_usage``) on the
router's ASGI entry, for the run's principal (``evaluators.router_models.in_process_scope``),
so limits, retries, fallbacks and usage accounting all apply. ``AnswerStream`` is its ASGI
``send``: it reads the chat stream's events as they come, to know when the first token
arrived (time to first token), the answer's text, its usage, and an error event if the
stream ended with one. The response's ``x-relaygate-*`` headers say which model answered
(a fallback may have), whether the answer cache did, and a deployment's version.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from relaygate.catalog import Principal
from relaygate.evaluators.router_models import RouterEntry, error_message, in_process_scope, request_receive
from relaygate.sse import EventTooLarge, SseDecoder, event_object, is_done
from relaygate.types import Message

CHAT_PATH = "/chat/completions"
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class AnswerTooLarge(Exception):
    """The answer grew past ``MAX_ANSWER_BYTES``: the call is abandoned."""


@dataclass(frozen=True)
class StreamedAnswer:
    text: str
    error: str | None  # the call's error (status, or the stream's error event); None: answered
    usage: dict[str, Any] | None
    latency_ms: float
    ttft_ms: float | None  # until the first chunk carrying text or a tool call
    model: str | None  # the router id of the model that answered
    cache_hit: bool
    deployment_version: int | None


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _stream_error(event: dict[str, Any]) -> str:
    error = event["error"]
    message = error.get("message") if isinstance(error, dict) else error
    return (
        f"The stream ended with an error: {message}"
        if isinstance(message, str)
        else "The stream ended with an error."
    )


class AnswerStream:
    """The ASGI ``send`` of one streamed call: its answer, read event by event."""

    def __init__(self, started: float) -> None:
        self._started = started
        self._status = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._decoder = SseDecoder()
        self._parts: list[str] = []
        self._raw: list[bytes] = []  # an error answer's body
        self._size = 0
        self._first_token: float | None = None
        self._usage: dict[str, Any] | None = None
        self._error: str | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._status = int(message["status"])
            self._headers = list(message.get("headers", ()))
            return
        if message["type"] != "http.response.body":
            return
        chunk = bytes(message.get("body", b""))
        self._size += len(chunk)
        if self._size > MAX_ANSWER_BYTES:
            raise AnswerTooLarge(f"The answer is larger than {MAX_ANSWER_BYTES} bytes.")
        if self._status != 200:
            self._raw.append(chunk)
            return
        for event in self._decoder.feed(chunk):
            self._read(event)

    def _read(self, event: bytes) -> None:
        if is_done(event):
            return
        parsed = event_object(event)
        if parsed is None:
            return
        if "error" in parsed:
            self._error = _stream_error(parsed)
            return
        if isinstance(parsed.get("usage"), dict):
            self._usage = parsed["usage"]
        for choice in parsed.get("choices") or ():
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if not isinstance(delta, dict):
                continue
            content = delta.get("content")
            if isinstance(content, str) and content:
                self._parts.append(content)
            if self._first_token is None and (content or delta.get("tool_calls")):
                self._first_token = time.perf_counter()

    def answer(self) -> StreamedAnswer:
        ended = time.perf_counter()
        if self._status == 200:
            for event in self._decoder.close():
                self._read(event)
        error = self._error
        if self._status != 200:
            error = error_message(self._status, b"".join(self._raw))
        version = _header(self._headers, b"x-relaygate-deployment-version")
        return StreamedAnswer(
            text="".join(self._parts),
            error=error,
            usage=self._usage,
            latency_ms=(ended - self._started) * 1000,
            ttft_ms=None if self._first_token is None else (self._first_token - self._started) * 1000,
            model=_header(self._headers, b"x-relaygate-model"),
            cache_hit=_header(self._headers, b"x-relaygate-cache") == "hit",
            deployment_version=int(version) if version and version.isdigit() else None,
        )


async def stream_call(router: RouterEntry, principal: Principal, body: dict[str, Any]) -> StreamedAnswer:
    """``body`` (a streamed chat completion) through the router for ``principal``."""
    raw = orjson.dumps(body)
    stream = AnswerStream(time.perf_counter())
    try:
        await router(in_process_scope(CHAT_PATH, raw, principal), request_receive(raw), stream, CHAT_PATH)
    except (AnswerTooLarge, EventTooLarge) as exc:
        return StreamedAnswer("", str(exc), None, 0.0, None, None, False, None)
    return stream.answer()
