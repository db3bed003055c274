"""The search loop: ask the model, run the searches it asks for, feed them back, until it answers.

Each round is a chat call (``rounds.py``) with the conversation so far (``conversation.py``).
A round whose only tool calls are ``web_search`` is followed by the searches, run at once
when the model asked for several (``web_search.searcher``), and by another round. The loop
ends when the model answers without searching, or calls one of the caller's own functions
(those go back to the client; searches asked for beside them are not run, their results
could not reach the model), or after the round made without the search tool once the
call's bound (the backend's ``max_searches``, lowered by the request's ``max_tool_calls``)
is spent. So it ends after at most bound + 1 rounds. What the model asked past the bound
is answered "not run".
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from relaygate.router.adapters import UpstreamRequest
from relaygate.router.asgi import RawHeaders
from relaygate.router.policy import RouteRecord
from relaygate.web_search.citations import Sources
from relaygate.web_search.config import SearchBackend
from relaygate.web_search.options import SearchOptions
from relaygate.web_search.searcher import SearchOutcome, WebSearcher
from relaygate.web_search.tool import (
    SEARCH_FUNCTION,
    Source,
    failure_message,
    query_of,
    refused_message,
    results_message,
)

from .conversation import Conversation
from .output import Ending, SearchCall, SearchOutput
from .rounds import OpenRound, Rounds
from .turn import ToolCall, add_usage

HeadersFor = Callable[[RouteRecord, UpstreamRequest], RawHeaders]


@dataclass(slots=True)
class Tally:
    """What the call's searches and rounds added up to (accounting reads it)."""

    asked: int = 0  # search calls counted against the bound
    searches: int = 0  # searches that gave results (from the cache too)
    billed: int = 0  # searches that reached the backend
    search_ms: float = 0.0  # wall time spent searching (concurrent searches count once)
    upstream_ms: float = 0.0  # wall time of the rounds, open to last byte
    usage: dict[str, Any] | None = None  # every round's, summed
    refused: bool = False  # the model asked for more searches than the bound allowed


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class SearchLoop:
    def __init__(
        self,
        rounds: Rounds,
        conversation: Conversation,
        options: SearchOptions,
        backend: SearchBackend,
        searcher: WebSearcher,
        output: SearchOutput,
        sources: Sources,
        max_event_bytes: int,
        max_searches: int,
    ) -> None:
        self._rounds = rounds
        self._conversation = conversation
        self._options = options
        self._backend = backend
        self._searcher = searcher
        self._output = output
        self._sources = sources
        self._max_event_bytes = max_event_bytes
        self._max_searches = max_searches  # the call's bound
        self.tally = Tally()

    async def run(self, record: RouteRecord, headers_for: HeadersFor) -> Ending | OpenRound:
        """The call's ending, or the round whose upstream refused it (a status >= 400)."""
        first = True
        while True:
            offer = self.tally.asked < self._max_searches
            opened = await self._rounds.open(self._conversation.body(offer, first), record)
            if opened.failed:
                return opened
            start = partial(self._output.start, headers_for(record, opened.request)) if first else None
            first = False
            turn = await opened.turn(self._max_event_bytes, self._output.text, start)
            self.tally.upstream_ms += _since(opened.started)
            self.tally.usage = add_usage(self.tally.usage, turn.usage)
            searches = [call for call in turn.calls if call.name == SEARCH_FUNCTION]
            if not offer or not searches or len(searches) != len(turn.calls):
                turn.calls = [call for call in turn.calls if call.name != SEARCH_FUNCTION]
                return Ending(
                    turn, opened.request, self.tally.usage, limit_reached=not offer or self.tally.refused
                )
            results = await self._search(searches)
            self._conversation.add_searches(turn.text, searches, results)

    async def _search(self, calls: list[ToolCall]) -> list[str]:
        """Run the searches the bound allows (at once); the tool message of every call, in order."""
        allowed = max(0, self._max_searches - self.tally.asked)
        run, refused = calls[:allowed], calls[allowed:]
        self.tally.asked += len(calls)
        self.tally.refused = self.tally.refused or bool(refused)
        items = [SearchCall(f"ws_{secrets.token_hex(12)}", call, query_of(call.arguments)) for call in run]
        await self._output.searching(items)
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(self._outcome(item) for item in items))
        self.tally.search_ms += _since(started)
        messages = []
        for item, outcome in zip(items, outcomes, strict=True):
            messages.append(self._settle(item, outcome))
            await self._output.searched(item)
        return messages + [refused_message(query_of(call.arguments)) for call in refused]

    async def _outcome(self, item: SearchCall) -> SearchOutcome | None:
        if item.query is None:
            return None
        return await self._searcher.search(
            self._backend, self._options.query(item.query), self._options.budget
        )

    def _settle(self, item: SearchCall, outcome: SearchOutcome | None) -> str:
        """Record how the search went on its item; the tool message the model gets for it."""
        if outcome is None:
            item.status = "failed"
            return failure_message(None, "the call gave no 'query' string")
        if not outcome.ok:
            item.status = "failed"
            return failure_message(item.query, outcome.error or "the search failed")
        first_ref = self._sources.next_ref
        item.sources = [
            Source(first_ref + index, result.title, result.url)
            for index, result in enumerate(outcome.results)
        ]
        self._sources.add(item.sources)
        item.status = "completed"
        self.tally.searches += 1
        self.tally.billed += 0 if outcome.cached else 1
        return results_message(outcome.query.text, list(outcome.results), first_ref)
