"""The Brave Search and Tavily APIs, against a fake service speaking them; the per-query cache."""

from __future__ import annotations

import json
from typing import Any

from .helpers import add_searcher, set_backend
from .search_apis import RESULTS, SEARCH_KEY, FakeSearchApi
from .searching_model import FakeSearchingModel
from support.server import RelaygateServer

LOCATED: Any = {
    "type": "web_search",
    "search_context_size": "low",
    "user_location": {"type": "approximate", "country": "de", "city": "Berlin", "timezone": "Europe/Berlin"},
}


def _given(model: FakeSearchingModel) -> list[dict[str, Any]]:
    return [json.loads(m["content"]) for m in model.requests[-1]["messages"] if m["role"] == "tool"]


def test_brave_gets_its_token_count_and_location_and_its_results_reach_the_model(
    relaygate: RelaygateServer, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace = relaygate.new_workspace("brave")
    model = add_searcher(workspace, searching_model)
    set_backend(workspace, kind="brave", base_url=search_api.brave_url, api_key=SEARCH_KEY)
    response = workspace.client().responses.create(model=model, input="berlin news", tools=[LOCATED])
    [request] = search_api.requests
    assert (request.path, request.params) == (
        "/res/v1/web/search",
        {"q": "berlin news", "count": "3", "country": "DE"},
    )
    assert request.headers["x-subscription-token"] == SEARCH_KEY
    assert (request.headers["x-loc-city"], request.headers["x-loc-timezone"]) == ("Berlin", "Europe/Berlin")
    [given] = _given(searching_model)
    assert given["results"][0]["snippet"] == RESULTS[0]["snippet"]  # Brave's <strong> markup removed
    assert response.output[0].status == "completed"  # type: ignore[union-attr]


def test_tavily_gets_its_key_and_domains_and_a_rejected_key_is_a_failed_search(
    relaygate: RelaygateServer, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace = relaygate.new_workspace("tavily")
    model = add_searcher(workspace, searching_model)
    set_backend(workspace, kind="tavily", base_url=search_api.base_url, api_key=SEARCH_KEY)
    tool: Any = {"type": "web_search", "filters": {"allowed_domains": ["example.com"]}}
    workspace.client().responses.create(model=model, input="q", tools=[tool])
    [request] = search_api.requests
    assert (request.method, request.path) == ("POST", "/search")
    assert request.headers["authorization"] == f"Bearer {SEARCH_KEY}"
    assert request.json == {
        "query": "q",
        "max_results": 10,
        "search_depth": "basic",
        "include_domains": ["example.com"],
    }
    set_backend(workspace, kind="tavily", base_url=search_api.base_url, api_key="wrong-key-0000")
    rejected = workspace.client().responses.create(model=model, input="q", tools=[tool])
    assert rejected.output[0].status == "failed"  # type: ignore[union-attr]
    assert "HTTP 401" in _given(searching_model)[0]["error"]


def test_an_answer_that_is_not_the_apis_json_is_a_failed_search(
    relaygate: RelaygateServer, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace = relaygate.new_workspace("garbage")
    model = add_searcher(workspace, searching_model)
    set_backend(workspace, kind="searxng", base_url=search_api.base_url)
    search_api.garbage = True
    response = workspace.client().responses.create(model=model, input="q", tools=[{"type": "web_search"}])
    assert response.output[0].status == "failed"  # type: ignore[union-attr]
    assert "not its API's JSON" in _given(searching_model)[0]["error"]


def test_the_same_query_within_the_cache_ttl_asks_the_backend_once(
    relaygate: RelaygateServer, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace = relaygate.new_workspace("cache")
    model = add_searcher(workspace, searching_model)
    set_backend(workspace, kind="searxng", base_url=search_api.base_url, cache_ttl_s=60)
    client = workspace.client()
    for _ in range(3):
        client.responses.create(model=model, input="cached question", tools=[{"type": "web_search"}])
    assert len(search_api.requests) == 1
    client.responses.create(model=model, input="another question", tools=[{"type": "web_search"}])
    assert len(search_api.requests) == 2
    # Another workspace's identical query is its own.
    other = relaygate.new_workspace("cache2")
    other_model = add_searcher(other, searching_model)
    set_backend(other, kind="searxng", base_url=search_api.base_url, cache_ttl_s=60)
    other.client().responses.create(
        model=other_model, input="cached question", tools=[{"type": "web_search"}]
    )
    assert len(search_api.requests) == 3
