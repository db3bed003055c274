"""The search APIs relaygate speaks: what to send each, and how to read its answer.

* SearXNG, ``GET <base>/search?q=...&format=json`` (the instance must enable the JSON
  format in its ``settings.yml``); a key, when set, goes as a bearer token for a proxy in front;
* Brave Search, ``GET <base>/web/search?q=...&count=...`` with ``X-Subscription-Token``;
  the user's country goes as ``country`` and city, region and time zone as its ``X-Loc-*``
  headers;
* Tavily, ``POST <base>/search`` with a bearer key and ``include_domains``.

Allowed domains also narrow the query itself where the API has no parameter for them
(``site:`` operators, which SearXNG's engines and Brave read); the results are filtered
again in ``results.py`` whatever the backend did. Each API is a pair of pure functions:
nothing here does I/O (``searcher.py`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from .config import BackendKind, SearchBackend, SearchQuery
from .results import SearchResult, normalise

MAX_BRAVE_COUNT = 20  # the API's bound on ``count``
MAX_TAVILY_RESULTS = 20


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    method: str
    url: str  # without the query: the transport adds ``query``
    headers: list[tuple[str, str]]
    query: list[tuple[str, str]] | None = None
    body: bytes | None = None


class BadAnswer(ValueError):
    """The backend answered 200 with something that is not its API's JSON."""


def _site_query(query: SearchQuery) -> str:
    if not query.allowed_domains:
        return query.text
    sites = " OR ".join(f"site:{domain}" for domain in query.allowed_domains)
    return f"{query.text} ({sites})" if len(query.allowed_domains) > 1 else f"{query.text} {sites}"


def _searxng_request(backend: SearchBackend, query: SearchQuery) -> OutgoingRequest:
    params = [("q", _site_query(query)), ("format", "json"), ("safesearch", "1")]
    headers = [("accept", "application/json")]
    if backend.api_key:
        headers.append(("authorization", f"Bearer {backend.api_key}"))
    return OutgoingRequest("GET", f"{backend.base_url}/search", headers, params)


def _brave_request(backend: SearchBackend, query: SearchQuery) -> OutgoingRequest:
    params = [("q", _site_query(query)), ("count", str(min(query.count, MAX_BRAVE_COUNT)))]
    headers = [("accept", "application/json"), ("x-subscription-token", backend.api_key)]
    location = query.location
    if location is not None:
        if location.country:
            params.append(("country", location.country.upper()))
        for header, value in (
            ("x-loc-city", location.city),
            ("x-loc-state-name", location.region),
            ("x-loc-timezone", location.timezone),
        ):
            if value:
                headers.append((header, value))
    return OutgoingRequest("GET", f"{backend.base_url}/web/search", headers, params)


def _tavily_request(backend: SearchBackend, query: SearchQuery) -> OutgoingRequest:
    body: dict[str, Any] = {
        "query": query.text,
        "max_results": min(query.count, MAX_TAVILY_RESULTS),
        "search_depth": "basic",
    }
    if query.allowed_domains:
        body["include_domains"] = list(query.allowed_domains)
    headers = [
        ("accept", "application/json"),
        ("content-type", "application/json"),
        ("authorization", f"Bearer {backend.api_key}"),
    ]
    return OutgoingRequest("POST", f"{backend.base_url}/search", headers, body=orjson.dumps(body))


def _items(answer: Any, *path: str) -> list[Mapping[str, Any]]:
    """The list of result objects at ``path`` in the answer (BadAnswer when the shape is wrong)."""
    node = answer
    for key in path:
        if not isinstance(node, dict):
            raise BadAnswer(f"the answer has no '{'.'.join(path)}'")
        node = node.get(key, [] if key == path[-1] else {})
    if not isinstance(node, list):
        raise BadAnswer(f"'{'.'.join(path)}' is not a list")
    return [item for item in node if isinstance(item, dict)]


def _searxng_results(answer: Any, snippet_chars: int) -> list[SearchResult]:
    items = _items(answer, "results")
    return normalise(items, title="title", url="url", snippet="content", snippet_chars=snippet_chars)


def _brave_results(answer: Any, snippet_chars: int) -> list[SearchResult]:
    items = _items(answer, "web", "results")
    return normalise(items, title="title", url="url", snippet="description", snippet_chars=snippet_chars)


def _tavily_results(answer: Any, snippet_chars: int) -> list[SearchResult]:
    items = _items(answer, "results")
    return normalise(items, title="title", url="url", snippet="content", snippet_chars=snippet_chars)


@dataclass(frozen=True, slots=True)
class BackendApi:
    request: Callable[[SearchBackend, SearchQuery], OutgoingRequest]
    results: Callable[[Any, int], list[SearchResult]]  # the parsed answer, the snippet bound


APIS: Mapping[BackendKind, BackendApi] = {
    "searxng": BackendApi(_searxng_request, _searxng_results),
    "brave": BackendApi(_brave_request, _brave_results),
    "tavily": BackendApi(_tavily_request, _tavily_results),
}
