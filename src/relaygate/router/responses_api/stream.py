"""A chat completions stream turned into a Responses event stream, chunk by chunk.

The client sees what OpenAI's ``/responses`` sends: ``response.created``,
``response.in_progress``, then per output item ``response.output_item.added``; for text
``response.content_part.added``, ``response.output_text.delta``...,
``response.output_text.done``, ``response.content_part.done``; for a function call
``response.function_call_arguments.delta``... and ``.done``; then
``response.output_item.done``; and last ``response.completed`` (or ``response.incomplete``
when the answer was cut by ``max_output_tokens``) carrying the whole response and its usage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from relaygate.sse import event_object, is_done

from . import protocol
from .translate import ids_for


@dataclass
class _Item:
    output_index: int
    item_id: str
    parts: list[str] = field(default_factory=list)
    call_id: str = ""
    name: str = ""


class ResponsesStream:
    """Takes the upstream's chat events, returns Responses SSE bytes (the relay interface)."""

    def __init__(self, request: dict[str, Any], model: str) -> None:
        self._request = request
        self._model = model
        self._sequence = 0
        self._base = ""
        self._created = int(time.time())
        self._message: _Item | None = None
        self._refusal: list[str] = []
        self._calls: dict[int, _Item] = {}
        self._output: dict[int, dict[str, Any]] = {}
        self._finish_reason: str | None = None
        self._started = False
        self._finished = False
        self.usage: dict[str, Any] | None = None
        self.saw_done = False
        self.events = 0

    # -- the relay interface ------------------------------------------------------------

    def on_events(self, events: list[bytes]) -> bytes:
        return b"".join([self._on_event(event) for event in events])

    def on_end(self) -> bytes:
        return self._complete() if self._started else b""  # an upstream that ends without [DONE]

    # -- chat chunks in ----------------------------------------------------------------

    def _on_event(self, event: bytes) -> bytes:
        chunk = event_object(event)
        if chunk is None:
            if not is_done(event):
                return b""  # a comment, or data that is no chat chunk
            self.saw_done = True
            return self._complete() if self._started else b""
        if isinstance(chunk.get("error"), dict):
            return self._emit("error", **_error_fields(chunk["error"]))
        out = b"" if self._started else self._start(chunk)
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        choices = protocol.as_list(chunk.get("choices"))
        if choices and isinstance(choices[0], dict):
            out += self._on_choice(choices[0])
        return out

    def _on_choice(self, choice: dict[str, Any]) -> bytes:
        delta = protocol.as_dict(choice.get("delta"))
        out = b""
        content = delta.get("content")
        if isinstance(content, str) and content:
            out += self._text_delta(content)
        refusal = delta.get("refusal")
        if isinstance(refusal, str) and refusal:
            out += b"" if self._message is not None else self._open_message()[1]
            self._refusal.append(refusal)
        for call in delta.get("tool_calls") or ():
            if isinstance(call, dict):
                out += self._tool_delta(call)
        if choice.get("finish_reason"):
            self._finish_reason = choice["finish_reason"]
            out += self._close_items()
        return out

    # -- Responses events out ------------------------------------------------------------

    def _emit(self, kind: str, **fields: Any) -> bytes:
        sequence, self._sequence = self._sequence, self._sequence + 1
        self.events += 1
        return protocol.event(kind, sequence, **fields)

    def _response(self, status: str, with_output: bool) -> dict[str, Any]:
        output = [self._output[index] for index in sorted(self._output)] if with_output else []
        return protocol.response_object(
            self._request,
            response_id=f"resp_{self._base}",
            created_at=self._created,
            model=self._model,
            status=status,
            output=output,
            usage=protocol.usage(self.usage) if with_output else None,
        )

    def _start(self, chunk: dict[str, Any]) -> bytes:
        self._started = True
        self._base = ids_for(chunk.get("id"))
        if isinstance(chunk.get("created"), int):
            self._created = chunk["created"]
        response = self._response("in_progress", with_output=False)
        return self._emit("response.created", response=response) + self._emit(
            "response.in_progress", response=response
        )

    def _next_index(self) -> int:
        return len(self._output) + (self._message is not None) + len(self._calls)

    def _open_message(self) -> tuple[_Item, bytes]:
        """The message item the text goes into, and the events that open it."""
        item = _Item(self._next_index(), f"msg_{self._base}")
        self._message = item
        where = {"item_id": item.item_id, "output_index": item.output_index, "content_index": 0}
        added = protocol.message_item(item.item_id, None, None, "in_progress")
        part = {"type": "output_text", "text": "", "annotations": []}
        return item, self._emit("response.output_item.added", output_index=item.output_index, item=added) + (
            self._emit("response.content_part.added", **where, part=part)
        )

    def _text_delta(self, text: str) -> bytes:
        message, out = (self._message, b"") if self._message is not None else self._open_message()
        message.parts.append(text)
        where = {"item_id": message.item_id, "output_index": message.output_index}
        return out + self._emit(
            "response.output_text.delta", **where, content_index=0, delta=text, logprobs=[]
        )

    def _close_message(self) -> bytes:
        item, self._message = self._message, None
        if item is None:
            return b""
        text = "".join(item.parts)
        refusal = "".join(self._refusal) or None
        where = {"item_id": item.item_id, "output_index": item.output_index, "content_index": 0}
        done = protocol.message_item(item.item_id, text, refusal, "completed")
        self._output[item.output_index] = done
        part = {"type": "output_text", "text": text, "annotations": []}
        return (
            self._emit("response.output_text.done", **where, text=text, logprobs=[])
            + self._emit("response.content_part.done", **where, part=part)
            + self._emit("response.output_item.done", output_index=item.output_index, item=done)
        )

    def _tool_delta(self, call: dict[str, Any]) -> bytes:
        index = call.get("index", 0)
        index = index if isinstance(index, int) else 0
        function = protocol.as_dict(call.get("function"))
        out = b""
        item = self._calls.get(index)
        if item is None:
            out += self._close_message()
            item = _Item(self._next_index(), f"fc_{self._base}_{index}")
            item.call_id = str(call.get("id") or f"call_{self._base}_{index}")
            item.name = str(function.get("name") or "")
            self._calls[index] = item
            added = protocol.function_call_item(item.item_id, item.call_id, item.name, "", "in_progress")
            out += self._emit("response.output_item.added", output_index=item.output_index, item=added)
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            item.parts.append(arguments)
            out += self._emit(
                "response.function_call_arguments.delta",
                item_id=item.item_id,
                output_index=item.output_index,
                delta=arguments,
            )
        return out

    def _close_items(self) -> bytes:
        out = self._close_message()
        for item in self._calls.values():
            arguments = "".join(item.parts)
            where = {"item_id": item.item_id, "output_index": item.output_index}
            done = protocol.function_call_item(item.item_id, item.call_id, item.name, arguments, "completed")
            self._output[item.output_index] = done
            out += self._emit("response.function_call_arguments.done", **where, arguments=arguments)
            out += self._emit("response.output_item.done", output_index=item.output_index, item=done)
        self._calls.clear()
        return out

    def _complete(self) -> bytes:
        if self._finished:
            return b""
        out = self._close_items()
        self._finished = True
        status = "incomplete" if self._finish_reason == "length" else "completed"
        return out + self._emit(f"response.{status}", response=self._response(status, with_output=True))


def _error_fields(error: dict[str, Any]) -> dict[str, Any]:
    return {"code": error.get("code"), "message": error.get("message") or "", "param": error.get("param")}
