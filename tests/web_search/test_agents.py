"""openai-agents' ``WebSearchTool`` running through relaygate on a chat model that can call tools."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
from agents import Agent, OpenAIResponsesModel, Runner, WebSearchTool, function_tool, set_tracing_disabled
from agents.items import MessageOutputItem, ToolCallItem
from openai.types.responses import ResponseFunctionWebSearch

from .search_apis import RESULTS
from .searching_model import FakeSearchingModel
from support.server import Workspace

set_tracing_disabled(True)  # the SDK would send traces to OpenAI


def _agent(workspace: Workspace, model: str, tools: list[Any]) -> Agent[Any]:
    client = openai.AsyncOpenAI(base_url=f"{workspace.server.url}/v3/router", api_key=workspace.admin_key)
    return Agent(
        name="researcher",
        instructions="Answer with sources.",
        model=OpenAIResponsesModel(model=model, openai_client=client),
        tools=tools,
    )


def _searches(items: list[Any]) -> list[ResponseFunctionWebSearch]:
    return [
        item.raw_item
        for item in items
        if isinstance(item, ToolCallItem) and isinstance(item.raw_item, ResponseFunctionWebSearch)
    ]


def test_an_agent_with_the_web_search_tool_gets_a_cited_answer(searching: tuple[Workspace, str]) -> None:
    workspace, model = searching
    result = Runner.run_sync(_agent(workspace, model, [WebSearchTool()]), "What is relaygate?")
    assert RESULTS[0]["url"] in result.final_output
    [search] = _searches(result.new_items)
    assert (search.status, search.action.type) == ("completed", "search")
    [message] = [item for item in result.new_items if isinstance(item, MessageOutputItem)]
    annotations = message.raw_item.content[0].annotations  # type: ignore[union-attr]
    assert [a.url for a in annotations] == [r["url"] for r in RESULTS[:2]]  # type: ignore[union-attr]


@function_tool
def get_weather(city: str) -> str:
    """The weather of a city."""
    return f"Sunny in {city}"


def test_a_streamed_agent_run_with_a_function_tool_beside_web_search(
    searching: tuple[Workspace, str], searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    searching_model.reset(caller_function="get_weather")
    agent = _agent(workspace, model, [get_weather, WebSearchTool(search_context_size="low")])

    async def run() -> tuple[Any, list[str]]:
        streamed = Runner.run_streamed(agent, "Weather and news?")
        kinds: list[str] = [event.type async for event in streamed.stream_events()]
        return streamed, kinds

    streamed, kinds = asyncio.run(run())
    assert "raw_response_event" in kinds
    assert RESULTS[0]["url"] in streamed.final_output
    assert len(_searches(streamed.new_items)) == 1
    # The function ran on the client; its output went back with the earlier items, search items too.
    assert [request.get("tools") is not None for request in searching_model.requests] == [True, True, True]
    last = searching_model.requests[-1]["messages"]
    assert any(m["role"] == "tool" and m["content"] == "Sunny in Paris" for m in last)
