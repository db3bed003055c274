"""Running one search on a workspace's backend: bounded in time and size, never raising.

The request goes out through relaygate's upstream transport, so a backend obeys the same
rules as a model's upstream: its address was checked against the SSRF guard when it was
saved and the connection is pinned to a checked address (a private SearXNG needs
``RELAYGATE_UPSTREAM_ALLOWLIST``), redirects are never followed, connections are pooled.
A search takes at most the backend's ``timeout_s`` from connect to last byte and reads at
most ``MAX_ANSWER_BYTES``. A failure (timeout, refused connection, an error status, an
answer that does not parse) comes back as a ``SearchOutcome`` with ``error`` set: the model
is told the search failed and the call goes on. The log names the backend's kind, the
workspace and what failed; never the query (the user's words) nor the key.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import orjson

from relaygate.upstream.transport import ConnectFailed, Transport, TransportError, UpstreamResponse

from .backends import APIS, BadAnswer
from .cache import ResultCache, cache_key
from .config import SearchBackend, SearchQuery
from .results import ContextBudget, SearchResult, select

log = logging.getLogger("relaygate.web_search")

MAX_ANSWER_BYTES = 2 * 1024 * 1024


class _Failed(Exception):
    """A search that did not give results; the message is what the model and the log are told."""


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    query: SearchQuery
    results: tuple[SearchResult, ...] = ()
    error: str | None = None  # None: the search worked (it may have found nothing)
    cached: bool = False  # answered from the cache: no backend call, no fee
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


async def _read_bounded(response: UpstreamResponse, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in response.chunks():
        size += len(chunk)
        if size > limit:
            raise _Failed(f"the search backend sent more than {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _reason(exc: TransportError) -> str:
    """What failed, without the URL (it holds the query) the transport's message may name."""
    if isinstance(exc, ConnectFailed):
        return f"the search backend could not be reached ({exc.cause or 'connection failed'})"
    return "the search backend's answer broke off or was too large"


class WebSearcher:
    def __init__(self, transport: Transport, cache: ResultCache, max_answer_bytes: int = MAX_ANSWER_BYTES):
        self._transport = transport
        self._cache = cache
        self._max_answer_bytes = max_answer_bytes

    async def search(
        self, backend: SearchBackend, query: SearchQuery, budget: ContextBudget
    ) -> SearchOutcome:
        started = time.perf_counter()
        key = (*cache_key(backend, query), budget)
        cached = self._cache.get(key)
        if cached is not None:
            return SearchOutcome(query, cached, cached=True, elapsed_ms=_since(started))
        try:
            async with asyncio.timeout(backend.timeout_s):
                found = await self._ask(backend, query, budget)
        except TimeoutError:
            error = f"the search did not finish within {backend.timeout_s:g} s"
        except _Failed as failure:
            error = str(failure)
        except TransportError as exc:
            error = _reason(exc)
        else:
            results = tuple(select(found, query.allowed_domains, budget))
            self._cache.put(key, results, backend.cache_ttl_s)
            return SearchOutcome(query, results, elapsed_ms=_since(started))
        log.warning(
            "web search on the %s backend of workspace %s failed: %s",
            backend.kind,
            backend.workspace_id,
            error,
        )
        return SearchOutcome(query, error=error, elapsed_ms=_since(started))

    async def _ask(
        self, backend: SearchBackend, query: SearchQuery, budget: ContextBudget
    ) -> list[SearchResult]:
        api = APIS[backend.kind]
        request = api.request(backend, query)
        response = await self._transport.send(
            request.method, request.url, request.headers, request.body, stream=True, query=request.query
        )
        try:
            if response.status != 200:
                raise _Failed(f"the search backend answered HTTP {response.status}")
            body = await _read_bounded(response, self._max_answer_bytes)
        finally:
            await response.aclose()
        try:
            return api.results(orjson.loads(body), budget.snippet_chars)
        except (orjson.JSONDecodeError, BadAnswer):
            raise _Failed("the search backend sent an answer that is not its API's JSON") from None


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
