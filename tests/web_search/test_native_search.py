"""A model whose upstream serves ``/responses`` searches itself, unless its workspace prefers
relaygate's search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .helpers import set_backend
from .search_apis import FakeSearchApi
from support.server import Workspace
from upstream import DEFAULT_REPLY, FakeUpstream

SEARCH: Any = [{"type": "web_search"}]


def test_native_search_is_passed_through_unless_relaygate_is_preferred(
    workspace: Workspace, fake_upstream_factory: Callable[..., FakeUpstream], search_api: FakeSearchApi
) -> None:
    upstream = fake_upstream_factory(supports_responses=True)
    workspace.add_model(upstream, "gpt-test", provider="native", supports_tool_calling=True)
    upstream.reset()
    client = workspace.client()
    raw = client.responses.with_raw_response.create(model="native/gpt-test", input="news?", tools=SEARCH)
    assert "x-relaygate-web-search" not in raw.headers
    [passed] = upstream.requests_to("/responses")
    assert passed.json["tools"] == SEARCH
    chat = client.chat.completions.with_raw_response.create(
        model="native/gpt-test", messages=[{"role": "user", "content": "news?"}], web_search_options={}
    )
    assert "x-relaygate-web-search" not in chat.headers
    assert upstream.requests_to("/chat/completions")[-1].json["web_search_options"] == {}
    assert search_api.requests == []

    set_backend(
        workspace,
        kind="searxng",
        base_url=search_api.base_url,
        prefer_relaygate=True,
        max_searches=2,
        cache_ttl_s=0,
    )
    upstream.reset()
    raw = client.responses.with_raw_response.create(model="native/gpt-test", input="news?", tools=SEARCH)
    response = raw.parse()
    assert raw.headers["x-relaygate-web-search"] == "relaygate"
    assert upstream.requests_to("/responses") == []
    # The fake upstream calls every tool it is offered: it searches until the bound, then answers.
    assert [item.type for item in response.output] == ["web_search_call", "web_search_call", "message"]
    assert response.output_text == DEFAULT_REPLY
    assert response.metadata == {"web_search": "limit_reached"}
    assert len(search_api.requests) == 2
    assert len(upstream.requests_to("/chat/completions")) == 3
