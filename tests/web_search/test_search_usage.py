"""What a searching call records: every round's tokens, the searches, their cost and their time."""

from __future__ import annotations

from typing import Any

from .helpers import add_searcher, set_backend
from .search_apis import FakeSearchApi
from .searching_model import FakeSearchingModel
from support.server import RelaygateServer
from support.usage_events import usage_event

PRICES: dict[str, Any] = {
    "input_cost": 1,
    "output_cost": 2,
    "configuration": {"million_searches_cost": 10000},
}


def _token_nano(event: dict[str, Any]) -> int:
    return int(event["prompt_tokens"]) * 1000 + int(event["completion_tokens"]) * 2000  # $1 and $2 per 1M


def test_the_usage_event_has_every_rounds_tokens_and_the_priced_searches(
    relaygate: RelaygateServer, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace = relaygate.new_workspace("usage")
    model = add_searcher(workspace, searching_model, **PRICES)
    set_backend(workspace, kind="searxng", base_url=search_api.base_url, price_per_1000="5", cache_ttl_s=60)
    searching_model.reset(parallel=2)
    raw = workspace.client().responses.with_raw_response.create(
        model=model, input="q", tools=[{"type": "web_search"}]
    )
    response = raw.parse()
    event = usage_event(workspace, raw.headers["x-request-id"])
    assert response.usage is not None
    assert (event["prompt_tokens"], event["completion_tokens"]) == (
        response.usage.input_tokens,
        response.usage.output_tokens,
    )
    assert event["searches"] == 2
    assert event["search_cost_nano"] == 2 * 5_000_000  # $5 per 1000 searches
    assert event["cost_nano"] == _token_nano(event) + event["search_cost_nano"]
    assert event["search_ms"] > 0
    assert event["latency_ms"] >= event["search_ms"]
    assert event["status"] == 200
    # The same searches again come from the cache: counted, not paid for.
    again = workspace.client().responses.with_raw_response.create(
        model=model, input="q", tools=[{"type": "web_search"}]
    )
    cached = usage_event(workspace, again.headers["x-request-id"])
    assert (cached["searches"], cached["search_cost_nano"]) == (2, 0)


def test_without_a_backend_price_the_models_million_searches_cost_applies(
    relaygate: RelaygateServer, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace = relaygate.new_workspace("modelprice")
    model = add_searcher(workspace, searching_model, **PRICES)
    set_backend(workspace, kind="searxng", base_url=search_api.base_url, cache_ttl_s=0)
    stream = workspace.client().chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "q"}], web_search_options={}, stream=True
    )
    list(stream.parse())
    event = usage_event(workspace, stream.headers["x-request-id"])
    assert event["stream"] is True
    assert event["searches"] == 1
    assert event["search_cost_nano"] == 10_000_000  # $10,000 per million searches
    assert event["prompt_tokens"] > 0
    assert event["completion_tokens"] > 5
    assert event["cost_nano"] == _token_nano(event) + 10_000_000
    totals = workspace.api("GET", "/v2/usage").json()["totals"]
    assert (totals["searches"], totals["search_cost_nano"], totals["search_cost"]) == (1, 10_000_000, 0.01)


def test_a_price_in_the_model_configuration_must_be_a_number(
    workspace: Any, searching_model: FakeSearchingModel
) -> None:
    body = {
        "model_type": "chat",
        "base_url": searching_model.url,
        "api_key": searching_model.api_key,
        "display_name": "priced",
        "model_id": "searcher",
        "configuration": {"million_searches_cost": "a lot"},
    }
    refused = workspace.api("POST", "/v2/models/openai-like", json=body)
    assert refused.status_code == 400
    assert "million_searches_cost" in refused.json()["error"]["message"]
