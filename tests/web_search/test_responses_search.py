"""``/responses`` with the ``web_search`` tool on a chat model that can call tools, through the official SDK.

relaygate offers the model a ``web_search`` function, runs its searches on the workspace's
SearXNG (a fake with known results), feeds the results back and answers in OpenAI's shape:
``web_search_call`` items, then the message with ``url_citation`` annotations.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.types.responses import Response, ResponseFunctionWebSearch, ResponseOutputMessage

from .helpers import add_searcher, set_backend
from .search_apis import RESULTS, FakeSearchApi
from .searching_model import NO_RESULTS_ANSWER, FakeSearchingModel
from support.server import Workspace

QUESTION = "what is relaygate?"
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
SEARCH_ITEM_EVENTS = [
    "response.output_item.added",
    "response.web_search_call.in_progress",
    "response.web_search_call.searching",
    "response.web_search_call.completed",
    "response.output_item.done",
]


def _searches(response: Response) -> list[ResponseFunctionWebSearch]:
    return [item for item in response.output if isinstance(item, ResponseFunctionWebSearch)]


def _message(response: Response) -> ResponseOutputMessage:
    [message] = [item for item in response.output if isinstance(item, ResponseOutputMessage)]
    return message


def _cited_spans(response: Response) -> list[tuple[str, str, str]]:
    """Each annotation as (the text it spans, its url, its title)."""
    part = _message(response).content[0]
    assert part.type == "output_text"
    return [(part.text[a.start_index : a.end_index], a.url, a.title) for a in part.annotations]  # type: ignore[union-attr]


def _tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(m["content"]) for m in request["messages"] if m.get("role") == "tool"]


def test_a_call_with_web_search_searches_and_cites_what_it_found(
    searching: tuple[Workspace, str], search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    raw = workspace.client().responses.with_raw_response.create(
        model=model, input=QUESTION, tools=[{"type": "web_search"}]
    )
    response = raw.parse()
    assert raw.headers["x-relaygate-web-search"] == "relaygate"
    [search] = _searches(response)
    assert [item.type for item in response.output] == ["web_search_call", "message"]
    assert search.id.startswith("ws_")
    assert search.status == "completed"
    assert search.action.type == "search"
    assert search.action.query == QUESTION
    assert search.action.sources is None  # only when include asks for them
    assert _cited_spans(response) == [
        (f"[{r['title']}]({r['url']})", r["url"], r["title"]) for r in RESULTS[:2]
    ]
    assert response.status == "completed"
    assert [request.params["q"] for request in search_api.requests] == [QUESTION]
    # The model was offered the function, then got the results as untrusted data.
    first, second = searching_model.requests
    assert [tool["function"]["name"] for tool in first["tools"]] == ["web_search"]
    [results] = _tool_results(second)
    assert results["query"] == QUESTION
    assert [r["url"] for r in results["results"]] == [r["url"] for r in RESULTS[:5]]
    assert "untrusted" in results["note"]
    # Usage is every round's.
    assert response.usage is not None
    assert response.usage.input_tokens > 0
    assert response.usage.output_tokens == 5 + len(response.output_text.split())


def test_sources_are_listed_when_include_asks_for_them(searching: tuple[Workspace, str]) -> None:
    workspace, model = searching
    response = workspace.client().responses.create(
        model=model,
        input=QUESTION,
        tools=[{"type": "web_search_preview", "search_context_size": "low"}],
        include=["web_search_call.action.sources"],
    )
    [search] = _searches(response)
    assert search.action.type == "search"
    assert [source.url for source in search.action.sources or ()] == [r["url"] for r in RESULTS[:3]]


def test_a_streamed_call_sends_the_documented_events_in_order(searching: tuple[Workspace, str]) -> None:
    workspace, model = searching
    stream = workspace.client().responses.create(
        model=model, input=QUESTION, tools=[{"type": "web_search"}], stream=True
    )
    events: list[Any] = list(stream)
    kinds = [event.type for event in events]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[2:7] == SEARCH_ITEM_EVENTS
    assert kinds[7:9] == ["response.output_item.added", "response.content_part.added"]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    middle = kinds[9:-4]
    assert set(middle) == {"response.output_text.delta", "response.output_text.annotation.added"}
    assert middle.count("response.output_text.annotation.added") == 2
    # Each annotation comes once its citation's text has gone out, and spans it exactly.
    text = ""
    for event in events[9:-4]:
        if event.type == "response.output_text.delta":
            text += event.delta
        else:
            annotation = event.annotation
            assert annotation.end_index <= len(text)
            assert text[annotation.start_index : annotation.end_index].startswith("[")
    final = events[-1].response
    assert final.output_text == text
    assert _cited_spans(final) == [(f"[{r['title']}]({r['url']})", r["url"], r["title"]) for r in RESULTS[:2]]
    search_items = [event.item for event in events if event.type == "response.output_item.done"][:1]
    assert search_items[0].type == "web_search_call"
    assert search_items[0].status == "completed"


def test_tool_choice_required_forces_a_first_search(
    searching: tuple[Workspace, str], searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    searching_model.reset(searches=0)  # it would not search on its own
    client = workspace.client()
    response = client.responses.create(
        model=model, input=QUESTION, tools=[{"type": "web_search"}], tool_choice="required"
    )
    assert len(_searches(response)) == 1
    first, second = searching_model.requests
    assert first["tool_choice"] == "required"
    assert second["tool_choice"] == "auto"
    searching_model.requests.clear()
    choice: Any = {"type": "web_search"}
    named = client.responses.create(
        model=model, input=QUESTION, tools=[{"type": "web_search"}], tool_choice=choice
    )
    assert len(_searches(named)) == 1
    assert searching_model.requests[0]["tool_choice"] == {
        "type": "function",
        "function": {"name": "web_search"},
    }


def test_the_callers_own_function_works_beside_web_search(
    searching: tuple[Workspace, str], searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    searching_model.reset(caller_function="get_weather")
    client = workspace.client()
    tools: Any = [WEATHER, {"type": "web_search"}]
    first = client.responses.create(model=model, input=QUESTION, tools=tools)
    [call] = first.output
    assert call.type == "function_call"
    assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "Paris"})
    offered = [tool["function"]["name"] for tool in searching_model.requests[0]["tools"]]
    assert offered == ["get_weather", "web_search"]
    # The client runs its function and goes on: now the model searches, then answers.
    follow_up: Any = [
        {"role": "user", "content": QUESTION},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 21 C"},
    ]
    second = client.responses.create(model=model, input=follow_up, tools=tools)
    assert [item.type for item in second.output] == ["web_search_call", "message"]
    assert len(_cited_spans(second)) == 2
    # Output items sent back as input (the SDKs' agents do) are accepted.
    sent_back: Any = [*follow_up, *[item.model_dump() for item in second.output]]
    third = client.responses.create(model=model, input=sent_back, tools=tools)
    assert third.status == "completed"


def test_the_bound_on_searches_is_kept_and_said_in_the_metadata(
    relaygate: Any, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace = relaygate.new_workspace("bound")
    model = add_searcher(workspace, searching_model)
    set_backend(workspace, kind="searxng", base_url=search_api.base_url, max_searches=2, cache_ttl_s=0)
    searching_model.reset(searches=99, parallel=3)  # it would search forever, three at a time
    response = workspace.client().responses.create(
        model=model, input=QUESTION, tools=[{"type": "web_search"}]
    )
    assert len(_searches(response)) == 2
    assert len(search_api.requests) == 2
    assert response.metadata == {"web_search": "limit_reached"}
    assert response.status == "completed"
    first, last = searching_model.requests
    statuses = [result["status"] for result in _tool_results(last)]
    assert statuses == ["completed", "completed", "not_run"]
    assert "tools" not in last  # the last round offers no search: the model must answer
    assert len(first["tools"]) == 1


def test_max_tool_calls_lowers_the_bound(
    searching: tuple[Workspace, str], search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    searching_model.reset(searches=99)
    response = workspace.client().responses.create(
        model=model, input=QUESTION, tools=[{"type": "web_search"}], max_tool_calls=1
    )
    assert len(_searches(response)) == 1
    assert response.metadata == {"web_search": "limit_reached"}
    assert all("max_tool_calls" not in request for request in searching_model.requests)


def test_a_failing_backend_gives_a_failed_search_and_the_answer_still_completes(
    searching: tuple[Workspace, str], search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    search_api.fail_status = 503
    response = workspace.client().responses.create(
        model=model, input=QUESTION, tools=[{"type": "web_search"}]
    )
    [search] = _searches(response)
    assert search.status == "failed"
    assert response.status == "completed"
    assert response.output_text == NO_RESULTS_ANSWER
    [told] = _tool_results(searching_model.requests[-1])
    assert told["status"] == "failed"
    assert "HTTP 503" in told["error"]


def test_a_backend_that_does_not_answer_in_time_is_a_failed_search(
    relaygate: Any, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace = relaygate.new_workspace("slow")
    model = add_searcher(workspace, searching_model)
    set_backend(workspace, kind="searxng", base_url=search_api.base_url, timeout_s=0.3)
    search_api.delay_s = 3
    stream = workspace.client().responses.create(
        model=model, input=QUESTION, tools=[{"type": "web_search"}], stream=True
    )
    events: list[Any] = list(stream)
    done = [event.item for event in events if event.type == "response.output_item.done"]
    assert (done[0].type, done[0].status) == ("web_search_call", "failed")
    assert events[-1].type == "response.completed"
    [told] = _tool_results(searching_model.requests[-1])
    assert "did not finish within 0.3 s" in told["error"]


def test_allowed_domains_narrow_the_query_and_the_results(
    searching: tuple[Workspace, str], search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    tool: Any = {"type": "web_search", "filters": {"allowed_domains": ["example.com"]}}
    workspace.client().responses.create(model=model, input=QUESTION, tools=[tool])
    assert search_api.requests[0].params["q"] == f"{QUESTION} site:example.com"
    [given] = _tool_results(searching_model.requests[-1])
    assert [r["url"] for r in given["results"]] == [
        "https://news.example.com/relaygate/web-search",
        "https://docs.example.com/five",
        "https://example.com/six",
    ]


def test_without_a_backend_the_call_is_refused_with_how_to_set_one(
    relaygate: Any, searching_model: FakeSearchingModel
) -> None:
    workspace = relaygate.new_workspace("nobackend")
    model = add_searcher(workspace, searching_model)
    with pytest.raises(openai.BadRequestError) as refused:
        workspace.client().responses.create(model=model, input=QUESTION, tools=[{"type": "web_search"}])
    assert (refused.value.code, refused.value.param) == ("search_backend_not_configured", "tools")
    assert "PUT /v2/search/backend" in refused.value.message
    assert "/studio/search" in refused.value.message
    assert searching_model.requests == []


def test_a_model_without_tool_calling_is_refused(
    relaygate: Any, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace = relaygate.new_workspace("notools")
    model = add_searcher(workspace, searching_model, supports_tool_calling=False)
    set_backend(workspace, kind="searxng", base_url=search_api.base_url)
    with pytest.raises(openai.BadRequestError) as refused:
        workspace.client().responses.create(model=model, input=QUESTION, tools=[{"type": "web_search"}])
    assert refused.value.code == "capability_not_supported"
    assert "supports_tool_calling" in refused.value.message
    assert searching_model.requests == []
    assert search_api.requests == []
