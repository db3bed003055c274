"""A searching ``/responses`` call's answer: ``web_search_call`` items, then the message with citations.

Streamed, the client gets OpenAI's events in OpenAI's order: ``response.created`` and
``response.in_progress`` as soon as the first round is accepted; per search
``response.output_item.added`` (a ``web_search_call``), ``response.web_search_call.in_progress``,
``.searching``, then ``.completed`` and ``response.output_item.done`` once its results are
in; the message as ``output_item.added``, ``content_part.added``, ``output_text.delta``...
with ``response.output_text.annotation.added`` as soon as a citation is whole, then
``output_text.done``, ``content_part.done``, ``output_item.done``; the caller's own function
calls; last ``response.completed`` with the whole response and the usage of every round.
Every event carries its ``sequence_number``. A whole answer is the same response object.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from relaygate.errors import RelaygateError
from relaygate.router.asgi import RawHeaders
from relaygate.router.responses_api import protocol
from relaygate.usage.extract import StreamText
from relaygate.web_search.citations import Citation, CitationFinder, Sources

from .output import LIMIT_METADATA, Channel, Ending, SearchCall
from .turn import ToolCall


@dataclass(slots=True)
class _Message:
    item_id: str
    output_index: int
    finder: CitationFinder
    text: str = ""
    annotations: list[dict[str, Any]] = field(default_factory=list)


class ResponsesOutput:
    def __init__(
        self, request: dict[str, Any], router_id: str, channel: Channel, sources: Sources, with_sources: bool
    ) -> None:
        self._request = request
        self._router_id = router_id
        self._channel = channel
        self._sources = sources
        self._with_sources = with_sources  # include: ["web_search_call.action.sources"]
        self._base = secrets.token_hex(12)
        self._created = int(time.time())
        self._sequence = 0
        self._items: dict[int, dict[str, Any]] = {}  # output index -> finished item
        self._added = 0  # output items opened so far
        self._message: _Message | None = None
        self._messages = 0
        self._index_of: dict[str, int] = {}  # search item id -> its output index, while it runs
        self.answer: dict[str, Any] | None = None

    @property
    def sent(self) -> StreamText:
        return self._channel.sent

    # -- the loop's reports -------------------------------------------------------------

    async def start(self, headers: RawHeaders) -> None:
        await self._channel.start(headers)
        response = self._response("in_progress", [], None, False)
        await self._emit("response.created", response=response)
        await self._emit("response.in_progress", response=response)

    async def text(self, delta: str) -> None:
        message = self._message or await self._open_message()
        message.text += delta
        where = {"item_id": message.item_id, "output_index": message.output_index, "content_index": 0}
        await self._emit("response.output_text.delta", **where, delta=delta, logprobs=[])
        if self._channel.stream:  # a whole answer's citations are found once, at its end
            await self._annotate(message, message.finder.scan(message.text))

    async def searching(self, calls: list[SearchCall]) -> None:
        await self._close_message()
        for call in calls:
            index = self._open_index()
            self._index_of[call.item_id] = index
            item = self._search_item(call, "in_progress")
            await self._emit("response.output_item.added", output_index=index, item=item)
            where = {"output_index": index, "item_id": call.item_id}
            await self._emit("response.web_search_call.in_progress", **where)
            await self._emit("response.web_search_call.searching", **where)

    async def searched(self, call: SearchCall) -> None:
        index = self._index_of.pop(call.item_id)
        item = self._search_item(call, call.status)
        self._items[index] = item
        await self._emit("response.web_search_call.completed", output_index=index, item_id=call.item_id)
        await self._emit("response.output_item.done", output_index=index, item=item)

    async def finish(self, ending: Ending, headers: RawHeaders) -> None:
        turn = ending.turn
        if turn.refusal is not None or (self._messages == 0 and not turn.calls):
            self._message = self._message or await self._open_message()
        await self._close_message(turn.refusal)
        for call in turn.calls:
            await self._function_call(call)
        status = "incomplete" if turn.finish_reason == "length" else "completed"
        output = [self._items[index] for index in sorted(self._items)]
        response = self._response(status, output, protocol.usage(ending.usage), ending.limit_reached)
        if self._channel.stream:
            await self._emit(f"response.{status}", response=response)
            await self._channel.end()
        else:
            self.answer = response
            await self._channel.whole(orjson.dumps(response), headers)

    async def fail(self, error: RelaygateError) -> None:
        await self._emit("error", code=error.code, message=error.message, param=error.param)
        response = self._response("failed", [self._items[i] for i in sorted(self._items)], None, False)
        response["error"] = {"code": error.code or "server_error", "message": error.message}
        await self._emit("response.failed", response=response)
        await self._channel.end()

    # -- items ----------------------------------------------------------------------------

    def _open_index(self) -> int:
        index, self._added = self._added, self._added + 1
        return index

    def _search_item(self, call: SearchCall, status: str) -> dict[str, Any]:
        return {
            "id": call.item_id,
            "type": "web_search_call",
            "status": status,
            "action": call.action(self._with_sources),
        }

    async def _open_message(self) -> _Message:
        self._messages += 1
        item_id = f"msg_{self._base}" if self._messages == 1 else f"msg_{self._base}_{self._messages}"
        message = self._message = _Message(item_id, self._open_index(), CitationFinder(self._sources))
        added = protocol.message_item(item_id, None, None, "in_progress")
        await self._emit("response.output_item.added", output_index=message.output_index, item=added)
        part = {"type": "output_text", "text": "", "annotations": []}
        where = {"item_id": item_id, "output_index": message.output_index, "content_index": 0}
        await self._emit("response.content_part.added", **where, part=part)
        return message

    async def _annotate(self, message: _Message, citations: list[Citation]) -> None:
        where = {"item_id": message.item_id, "output_index": message.output_index, "content_index": 0}
        for citation in citations:
            annotation = citation.annotation()
            message.annotations.append(annotation)
            index = len(message.annotations) - 1
            await self._emit(
                "response.output_text.annotation.added",
                **where,
                annotation_index=index,
                annotation=annotation,
            )

    async def _close_message(self, refusal: str | None = None) -> None:
        message, self._message = self._message, None
        if message is None:
            return
        await self._annotate(message, message.finder.scan(message.text, final=True))
        part = {**protocol.output_text(message.text), "annotations": message.annotations}
        item = protocol.message_item(message.item_id, None, refusal, "completed")
        item["content"].insert(0, part)
        self._items[message.output_index] = item
        where = {"item_id": message.item_id, "output_index": message.output_index, "content_index": 0}
        await self._emit("response.output_text.done", **where, text=message.text, logprobs=[])
        await self._emit("response.content_part.done", **where, part=part)
        await self._emit("response.output_item.done", output_index=message.output_index, item=item)

    async def _function_call(self, call: ToolCall) -> None:
        index = self._open_index()
        item_id = f"fc_{self._base}_{index}"
        added = protocol.function_call_item(item_id, call.id, call.name, "", "in_progress")
        done = protocol.function_call_item(item_id, call.id, call.name, call.arguments, "completed")
        self._items[index] = done
        where = {"item_id": item_id, "output_index": index}
        await self._emit("response.output_item.added", output_index=index, item=added)
        await self._emit("response.function_call_arguments.delta", **where, delta=call.arguments)
        await self._emit("response.function_call_arguments.done", **where, arguments=call.arguments)
        await self._emit("response.output_item.done", output_index=index, item=done)

    # -- the envelope -----------------------------------------------------------------------

    def _response(
        self, status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None, limit_reached: bool
    ) -> dict[str, Any]:
        response = protocol.response_object(
            self._request,
            response_id=f"resp_{self._base}",
            created_at=self._created,
            model=self._router_id,
            status=status,
            output=output,
            usage=usage,
        )
        if limit_reached:
            response["metadata"] = dict(LIMIT_METADATA)
        return response

    async def _emit(self, kind: str, **fields: Any) -> None:
        if self._channel.stream:
            sequence, self._sequence = self._sequence, self._sequence + 1
            await self._channel.write(protocol.event(kind, sequence, **fields))
