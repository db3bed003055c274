"""What the search loop tells the client, whichever API it speaks and whether it streams.

The loop reports what happens (``SearchOutput``): the first round was accepted
(``start``), the model wrote text (``text``), searches began and ended (``searching``,
``searched``), the call is over (``finish``) or failed after the answer had begun
(``fail``). ``responses_output.py`` and ``chat_output.py`` turn that into each API's answer:
built whole and sent at the end, or sent event by event as it happens. ``Channel`` is
the part both share: the response's start, its bytes (kept, bounded, for token counts and
body logging) and its end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from relaygate.errors import RelaygateError
from relaygate.router.adapters import UpstreamRequest
from relaygate.router.asgi import RawHeaders, send_bytes
from relaygate.router.relay import SSE_HEADERS
from relaygate.types import Send
from relaygate.usage.extract import StreamText
from relaygate.web_search.tool import Source

from .turn import ToolCall, Turn


@dataclass(slots=True)
class SearchCall:
    """One search the model asked for: a ``web_search_call`` item of the answer."""

    item_id: str  # "ws_..."
    call: ToolCall  # the model's function call
    query: str | None  # None: the call named no query (not run)
    status: str = "in_progress"  # then "completed" or "failed"
    sources: list[Source] = field(default_factory=list)

    def action(self, with_sources: bool) -> dict[str, Any]:
        action: dict[str, Any] = {"type": "search", "query": self.query or ""}
        if with_sources and self.status == "completed":
            action["sources"] = [{"type": "url", "url": source.url} for source in self.sources]
        return action


@dataclass(frozen=True, slots=True)
class Ending:
    """How the call ended: the last round's turn and what all rounds added up to."""

    turn: Turn
    request: UpstreamRequest  # the last round's (its notes go in a whole answer's headers)
    usage: dict[str, Any] | None  # every round's, summed
    limit_reached: bool  # the search bound stopped the model; said in the answer's metadata


LIMIT_METADATA = {"web_search": "limit_reached"}


class SearchOutput(Protocol):
    answer: dict[str, Any] | None  # a whole answer, once sent (usage and estimates read it)

    @property
    def sent(self) -> StreamText:
        """What the client got (bounded), for token estimates and body logging."""

    async def start(self, headers: RawHeaders) -> None:
        """The first round was accepted: a stream's response starts (a whole answer waits)."""

    async def text(self, delta: str) -> None: ...

    async def searching(self, calls: list[SearchCall]) -> None: ...

    async def searched(self, call: SearchCall) -> None: ...

    async def finish(self, ending: Ending, headers: RawHeaders) -> None:
        """The answer is complete: a whole one is sent with ``headers``, a stream ends."""

    async def fail(self, error: RelaygateError) -> None:
        """A stream that had started ends with ``error`` (a whole answer raises it instead)."""


class Channel:
    """The response going to the client: started once, written as events or in one piece."""

    def __init__(self, send: Send, stream: bool) -> None:
        self._send = send
        self.stream = stream
        self.started = False
        self.started_at: float | None = None  # when the client's first byte went out
        self.sent = StreamText()

    async def start(self, headers: RawHeaders) -> None:
        if not self.stream or self.started:
            return
        self.started, self.started_at = True, time.perf_counter()
        start = [*headers, (b"content-type", b"text/event-stream"), *SSE_HEADERS]
        await self._send({"type": "http.response.start", "status": 200, "headers": start})

    async def write(self, data: bytes) -> None:
        if data:
            self.sent.add(data)
            await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def end(self) -> None:
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def whole(self, body: bytes, headers: RawHeaders) -> None:
        self.sent.add(body)
        self.started_at = time.perf_counter()
        await send_bytes(self._send, 200, body, [*headers, (b"content-type", b"application/json")])
