"""A searching ``/chat/completions`` call's answer: one message with ``url_citation`` annotations.

Chat has no items for searches: the message's content is the text the model wrote across
rounds (a blank line between a round's text and the next), its ``annotations`` the
citations of the results it used, each ``{type: "url_citation", url_citation: {url, title,
start_index, end_index}}``. Streamed, the content goes out delta by delta as the model
writes it, a comment line (``: web search``, which clients skip) marks each search and
keeps idle proxies from closing the stream, and the annotations come in one chunk before
the chunk that carries ``finish_reason``; the usage chunk follows when the client asked for
it (``stream_options.include_usage``), then ``[DONE]``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import orjson

from relaygate.errors import RelaygateError
from relaygate.router.asgi import RawHeaders
from relaygate.sse import DONE, encode_event
from relaygate.usage.extract import StreamText
from relaygate.web_search.citations import CitationFinder, Sources

from .output import LIMIT_METADATA, Channel, Ending, SearchCall
from .turn import Turn

_SEARCH_COMMENT = b": web search\n\n"


class ChatOutput:
    def __init__(self, router_id: str, channel: Channel, sources: Sources, include_usage: bool) -> None:
        self._router_id = router_id
        self._channel = channel
        self._finder = CitationFinder(sources)
        self._include_usage = include_usage
        self._id = f"chatcmpl-{secrets.token_hex(12)}"
        self._created = int(time.time())
        self._text = ""
        self._searched_since_text = False
        self.answer: dict[str, Any] | None = None

    @property
    def sent(self) -> StreamText:
        return self._channel.sent

    async def start(self, headers: RawHeaders) -> None:
        await self._channel.start(headers)
        await self._chunk({"role": "assistant", "content": ""})

    async def text(self, delta: str) -> None:
        if self._searched_since_text and self._text:
            delta = "\n\n" + delta.lstrip("\n")
        self._searched_since_text = False
        self._text += delta
        await self._chunk({"content": delta})

    async def searching(self, calls: list[SearchCall]) -> None:
        self._searched_since_text = True
        if self._channel.stream:
            await self._channel.write(_SEARCH_COMMENT * len(calls))

    async def searched(self, call: SearchCall) -> None:
        return None

    async def finish(self, ending: Ending, headers: RawHeaders) -> None:
        turn = ending.turn
        annotations = [citation.chat_annotation() for citation in self._finder.scan(self._text, final=True)]
        metadata = dict(LIMIT_METADATA) if ending.limit_reached else None
        if not self._channel.stream:
            answer = self._envelope("chat.completion")
            answer["choices"] = [
                {
                    "index": 0,
                    "message": self._message(turn, annotations),
                    "logprobs": None,
                    "finish_reason": _finish(turn),
                }
            ]
            answer["usage"] = ending.usage
            if metadata is not None:
                answer["metadata"] = metadata
            self.answer = answer
            await self._channel.whole(orjson.dumps(answer), headers)
            return
        if turn.calls:
            calls = [{"index": index, **call.message_part()} for index, call in enumerate(turn.calls)]
            await self._chunk({"tool_calls": calls})
        if turn.refusal is not None:
            await self._chunk({"refusal": turn.refusal})
        if annotations:
            await self._chunk({"annotations": annotations})
        await self._chunk({}, finish_reason=_finish(turn), metadata=metadata)
        if self._include_usage:
            await self._write(
                {**self._envelope("chat.completion.chunk"), "choices": [], "usage": ending.usage}
            )
        await self._channel.write(DONE)
        await self._channel.end()

    async def fail(self, error: RelaygateError) -> None:
        await self._channel.write(encode_event(error.body_bytes()))
        await self._channel.end()

    def _message(self, turn: Turn, annotations: list[dict[str, Any]]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": self._text if self._text or not turn.calls else None,
            "refusal": turn.refusal,
            "annotations": annotations,
        }
        if turn.calls:
            message["tool_calls"] = [call.message_part() for call in turn.calls]
        return message

    def _envelope(self, kind: str) -> dict[str, Any]:
        return {"id": self._id, "object": kind, "created": self._created, "model": self._router_id}

    async def _chunk(
        self, delta: dict[str, Any], finish_reason: str | None = None, metadata: dict[str, str] | None = None
    ) -> None:
        if not self._channel.stream:
            return
        chunk = self._envelope("chat.completion.chunk")
        chunk["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        if metadata is not None:
            chunk["metadata"] = metadata
        await self._write(chunk)

    async def _write(self, payload: dict[str, Any]) -> None:
        await self._channel.write(encode_event(orjson.dumps(payload)))


def _finish(turn: Turn) -> str:
    if turn.calls:
        return "tool_calls"
    return turn.finish_reason if turn.finish_reason in ("stop", "length", "content_filter") else "stop"
