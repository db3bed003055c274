"""A chat completions stream turned into the SDKs' invoke stream, chunk by chunk.

Each upstream chunk with something to say (text, a piece of a tool call, reasoning)
becomes a complete invoke-shaped object with ``is_final: false``; the upstream's
``finish_reason`` and usage chunk are held until its ``[DONE]``, then one last chunk
with ``is_final: true``, the finish reasons (and the usage when the call asked for it),
then ``data: [DONE]``. An upstream ``{"error": ...}`` event is passed on as it came.
The usage is captured for accounting whether or not the client sees it. Every chunk is
parsed: a deployment stream pays that, the router's own streams do not.
"""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.catalog import RoutableModel
from relaygate.sse import DONE, encode_event, event_object, is_done

from .invoke_shapes import an_object, envelope, message, reasoning_of, usage
from .rendering import DeploymentUse, InvokeShape


class InvokeStream:
    """Takes the upstream's chat events, returns invoke SSE bytes (the relay's ``EventRelay``)."""

    def __init__(self, shape: InvokeShape, use: DeploymentUse, model: RoutableModel) -> None:
        self._shape = shape
        self._use = use
        self._model = model
        self._finish: dict[int, Any] = {}  # choice index -> its finish reason
        self._fingerprint: str | None = None
        self._ended = False
        self.usage: dict[str, Any] | None = None
        self.saw_done = False
        self.events = 0

    def on_events(self, events: list[bytes]) -> bytes:
        self.events += len(events)
        return b"".join([self._on_event(event) for event in events])

    def on_end(self) -> bytes:
        """An upstream that closed without ``[DONE]`` after saying something: end it properly."""
        if self._ended or self.events == 0:
            return b""
        self.saw_done = True  # the client gets a whole stream
        return self._final()

    def _on_event(self, event: bytes) -> bytes:
        if is_done(event):
            self.saw_done = True
            return b"" if self._ended else self._final()
        chunk = event_object(event)
        if chunk is None:
            return b""  # a comment or an empty event: nothing the client needs
        if "error" in chunk:
            return event + b"\n\n"
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        if isinstance(chunk.get("system_fingerprint"), str):
            self._fingerprint = chunk["system_fingerprint"]
        choices = []
        for position, choice in enumerate(chunk.get("choices") or ()):
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", position)
            if choice.get("finish_reason") is not None:
                self._finish[index] = choice["finish_reason"]
            delta = an_object(choice.get("delta"))
            content, calls, reasoning = delta.get("content"), delta.get("tool_calls"), reasoning_of(delta)
            if content or calls or reasoning:
                choices.append({"index": index, "message": message(content or "", calls, reasoning)})
        return self._chunk(choices, final=False) if choices else b""

    def _chunk(self, choices: list[dict[str, Any]], *, final: bool) -> bytes:
        chunk = envelope(self._shape, self._use, self._model, final=final)
        chunk["choices"] = choices
        if self._fingerprint is not None:
            chunk["system_fingerprint"] = self._fingerprint
        if final and self._shape.include_usage and self.usage is not None:
            chunk["usage"] = usage(self.usage)
        return encode_event(orjson.dumps(chunk))

    def _final(self) -> bytes:
        self._ended = True
        finished = self._finish or {0: "stop"}
        choices = [
            {"index": index, "message": message(""), "finish_reason": reason}
            for index, reason in finished.items()
        ]
        return self._chunk(choices, final=True) + DONE
