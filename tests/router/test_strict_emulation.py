"""Strict tools and JSON-schema answers on a model whose upstream does not enforce them: the
tools go upstream without ``strict``, relaygate checks the answer, asks once more on a
mismatch, then answers 502; ``strict_mode: "reject"`` keeps the 400. Also driven by the real
openai-agents and pydantic-ai packages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest
from agents import (
    Agent,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from pydantic import BaseModel
from pydantic_ai import Agent as PydanticAgent
from pydantic_ai import NativeOutput
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from router.conftest import ModelMaker

from support.server import Workspace
from upstream import FakeUpstream, Fault

HI: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
STRICT_TOOL: Any = {
    "type": "function",
    "function": {"name": "weather", "parameters": WEATHER_SCHEMA, "strict": True},
}
ANSWER_FORMAT: Any = {
    "type": "json_schema",
    "json_schema": {"name": "forecast", "schema": WEATHER_SCHEMA, "strict": True},
}


def completion(message: dict[str, Any], finish_reason: str = "stop") -> dict[str, Any]:
    """A whole chat completion carrying ``message``, as a scripted upstream answer."""
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-test",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def tool_call(arguments: str) -> Fault:
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": arguments}}
    return Fault(body=completion({"content": None, "tool_calls": [call]}, "tool_calls"))


def text(content: str) -> Fault:
    return Fault(body=completion({"content": content}))


@pytest.fixture
def client(routed: Workspace) -> Iterator[openai.OpenAI]:
    with routed.client() as sdk:
        yield sdk


@pytest.fixture
def tools_model(make_model: ModelMaker) -> tuple[str, FakeUpstream]:
    """A model with tool calling and without strict schemas (a vLLM or Ollama, say)."""
    return make_model("loose", supports_tool_calling=True)


def sent(upstream: FakeUpstream) -> list[dict[str, Any]]:
    return [request.json for request in upstream.requests_to("/chat/completions")]


def test_a_valid_strict_tool_call_passes_and_says_it_was_checked(
    client: openai.OpenAI, tools_model: tuple[str, FakeUpstream]
) -> None:
    router_id, upstream = tools_model
    raw = client.chat.completions.with_raw_response.create(model=router_id, messages=HI, tools=[STRICT_TOOL])
    assert raw.headers["x-relaygate-strict"] == "emulated"
    assert raw.headers["x-relaygate-attempts"] == "1"
    arguments = raw.parse().choices[0].message.tool_calls[0].function.arguments  # type: ignore[index, union-attr]
    assert json.loads(arguments) == {"city": "x", "days": 1}
    [body] = sent(upstream)
    assert body["tools"][0]["function"] == {"name": "weather", "parameters": WEATHER_SCHEMA}


def test_broken_arguments_are_asked_for_once_more(
    client: openai.OpenAI, tools_model: tuple[str, FakeUpstream]
) -> None:
    router_id, upstream = tools_model
    upstream.script("/chat/completions", [tool_call('{"city": "Paris", "days": "three"}')])
    raw = client.chat.completions.with_raw_response.create(model=router_id, messages=HI, tools=[STRICT_TOOL])
    assert raw.headers["x-relaygate-attempts"] == "2"
    arguments = raw.parse().choices[0].message.tool_calls[0].function.arguments  # type: ignore[index, union-attr]
    assert json.loads(arguments) == {"city": "x", "days": 1}
    assert len(sent(upstream)) == 2


def test_broken_twice_is_a_502_that_says_where(
    client: openai.OpenAI, tools_model: tuple[str, FakeUpstream]
) -> None:
    router_id, upstream = tools_model
    upstream.script("/chat/completions", [tool_call('{"city": "Paris"}'), tool_call("not json")])
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model=router_id, messages=HI, tools=[STRICT_TOOL])
    error = caught.value
    assert error.status_code == 502
    body: Any = error.body
    assert body["code"] == "strict_schema_mismatch"
    assert "tool 'weather'" in body["message"]
    assert "not valid JSON" in body["message"]
    assert set(body) == {"message", "type", "param", "code"}
    assert error.response.headers["x-relaygate-strict"] == "emulated"
    assert error.response.headers["x-relaygate-attempts"] == "2"
    assert len(sent(upstream)) == 2


def test_no_retry_when_set_to_zero(relaygate_factory: Any, fake_upstream: FakeUpstream) -> None:
    server = relaygate_factory(RELAYGATE_STRICT_RETRIES="0")
    workspace = server.new_workspace()
    model = workspace.add_model(fake_upstream, provider="noretry", supports_tool_calling=True)
    fake_upstream.reset()
    fake_upstream.script("/chat/completions", [tool_call('{"city": 3, "days": 1}')])
    with workspace.client() as sdk, pytest.raises(openai.APIStatusError) as caught:
        sdk.chat.completions.create(model=model["router_id"], messages=HI, tools=[STRICT_TOOL])
    assert caught.value.status_code == 502
    assert "at '/city'" in caught.value.message
    assert len(sent(fake_upstream)) == 1


def test_reject_mode_keeps_the_400(client: openai.OpenAI, make_model: ModelMaker) -> None:
    router_id, upstream = make_model(
        "strictly", supports_tool_calling=True, configuration={"strict_mode": "reject"}
    )
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=router_id, messages=HI, tools=[STRICT_TOOL])
    assert caught.value.code == "capability_not_supported"
    assert "supports_strict_tool" in caught.value.message
    assert "strict_mode" in caught.value.message
    with pytest.raises(openai.BadRequestError) as answer_format:
        client.chat.completions.create(model=router_id, messages=HI, response_format=ANSWER_FORMAT)
    assert answer_format.value.param == "response_format"
    assert sent(upstream) == []


def test_an_unknown_strict_mode_is_refused_at_save(routed: Workspace, fake_upstream: FakeUpstream) -> None:
    body = {
        "model_type": "chat",
        "base_url": fake_upstream.url,
        "api_key": fake_upstream.api_key or "unused",
        "display_name": "Bad mode",
        "model_id": "gpt-test",
        "region": "us",
        "configuration": {"strict_mode": "loose"},
    }
    response = routed.api("POST", "/v2/models/openai-like", json=body)
    assert response.status_code in (400, 422), response.text
    assert "strict_mode" in response.text


def test_a_json_schema_answer_is_checked_and_asked_again(
    client: openai.OpenAI, tools_model: tuple[str, FakeUpstream]
) -> None:
    router_id, upstream = tools_model
    upstream.script("/chat/completions", [text('{"city": "Paris", "days": 2, "extra": true}')])
    raw = client.chat.completions.with_raw_response.create(
        model=router_id, messages=HI, response_format=ANSWER_FORMAT
    )
    assert raw.headers["x-relaygate-strict"] == "emulated"
    assert json.loads(raw.parse().choices[0].message.content or "") == {"city": "x", "days": 1}
    first, second = sent(upstream)
    assert "strict" not in first["response_format"]["json_schema"]
    assert first["response_format"]["json_schema"]["schema"] == WEATHER_SCHEMA
    assert second == first


def test_a_cut_off_answer_is_relayed_unchecked(
    client: openai.OpenAI, tools_model: tuple[str, FakeUpstream]
) -> None:
    router_id, upstream = tools_model
    upstream.script("/chat/completions", [Fault(body=completion({"content": '{"city": "Par'}, "length"))])
    reply = client.chat.completions.create(model=router_id, messages=HI, response_format=ANSWER_FORMAT)
    assert reply.choices[0].finish_reason == "length"
    assert len(sent(upstream)) == 1


def test_a_schema_that_is_not_one_is_a_400(
    client: openai.OpenAI, tools_model: tuple[str, FakeUpstream]
) -> None:
    router_id, upstream = tools_model
    broken: Any = {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "nonsense"}, "strict": True},
    }
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=router_id, messages=HI, tools=[broken])
    assert caught.value.code == "invalid_schema"
    assert caught.value.param == "tools[0].function.parameters"
    assert sent(upstream) == []


def test_a_stream_is_checked_whole_then_replayed(
    client: openai.OpenAI, tools_model: tuple[str, FakeUpstream]
) -> None:
    router_id, upstream = tools_model
    upstream.script("/chat/completions", [tool_call('{"days": 1}')])
    with client.chat.completions.with_streaming_response.create(
        model=router_id, messages=HI, tools=[STRICT_TOOL], stream=True
    ) as response:
        assert response.headers["x-relaygate-strict"] == "emulated"
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = list(response.parse())
    arguments = "".join(
        call.function.arguments or ""
        for chunk in chunks
        for choice in chunk.choices
        for call in choice.delta.tool_calls or []
        if call.function is not None
    )
    assert json.loads(arguments) == {"city": "x", "days": 1}
    assert all(chunk.usage is None for chunk in chunks)  # the client did not ask for usage
    first, _second = sent(upstream)
    assert first["stream"] is False
    assert "stream_options" not in first
    assert "strict" not in first["tools"][0]["function"]


def test_a_model_with_strict_support_is_left_alone(client: openai.OpenAI, make_model: ModelMaker) -> None:
    router_id, upstream = make_model(
        "exact", supports_tool_calling=True, supports_strict_tool=True, force=True
    )
    raw = client.chat.completions.with_raw_response.create(model=router_id, messages=HI, tools=[STRICT_TOOL])
    assert "x-relaygate-strict" not in raw.headers
    assert sent(upstream)[0]["tools"][0]["function"]["strict"] is True


# -- real agent frameworks ------------------------------------------------------------


def recording_client(routed: Workspace, strict_headers: list[str | None]) -> openai.AsyncOpenAI:
    """An async SDK client that notes each answer's ``x-relaygate-strict``."""

    async def note(response: httpx2.Response) -> None:
        strict_headers.append(response.headers.get("x-relaygate-strict"))

    return openai.AsyncOpenAI(
        base_url=f"{routed.server.url}/v3/router",
        api_key=routed.admin_key,
        max_retries=0,
        http_client=httpx2.AsyncClient(event_hooks={"response": [note]}),
    )


class Forecast(BaseModel):
    city: str
    days: int


@pytest.mark.parametrize(
    ("model_class", "streamed"),
    [(OpenAIChatCompletionsModel, False), (OpenAIResponsesModel, False), (OpenAIResponsesModel, True)],
)
def test_openai_agents_runs_a_strict_function_tool(
    routed: Workspace,
    tools_model: tuple[str, FakeUpstream],
    model_class: type[OpenAIChatCompletionsModel | OpenAIResponsesModel],
    streamed: bool,
) -> None:
    """Through chat completions, and through openai-agents' own default, /responses, which
    relaygate translates onto the chat-only upstream."""
    router_id, upstream = tools_model
    asked: list[tuple[str, int]] = []

    @function_tool
    def weather(city: str, days: int) -> str:
        """The weather in a city for some days."""
        asked.append((city, days))
        return "sunny"

    strict_headers: list[str | None] = []

    async def run() -> Any:
        sdk = recording_client(routed, strict_headers)
        model = model_class(model=router_id, openai_client=sdk)
        agent = Agent(name="forecaster", instructions="Use the tool.", tools=[weather], model=model)
        try:
            if not streamed:
                return await Runner.run(agent, "Weather in Paris?")
            result = Runner.run_streamed(agent, "Weather in Paris?")
            async for _ in result.stream_events():
                pass
            return result
        finally:
            await sdk.close()

    set_tracing_disabled(True)
    # The fake calls the offered tool (valid arguments), then, scripted, answers in words.
    upstream.script("/chat/completions", [Fault(), text("It is sunny in x.")])
    result = asyncio.run(run())
    assert result.final_output == "It is sunny in x."
    assert asked == [("x", 1)]
    assert strict_headers == ["emulated", "emulated"]  # the agent sent strict tools both times
    first = sent(upstream)[0]
    assert first["tools"][0]["function"]["name"] == "weather"
    assert "strict" not in first["tools"][0]["function"]
    if model_class is OpenAIResponsesModel:
        assert first["stream"] is False  # a strict stream is asked for whole, checked, then replayed


def test_pydantic_ai_gets_structured_output_through_a_tool(
    routed: Workspace, tools_model: tuple[str, FakeUpstream]
) -> None:
    router_id, upstream = tools_model
    strict_headers: list[str | None] = []
    provider = OpenAIProvider(openai_client=recording_client(routed, strict_headers))
    agent = PydanticAgent(OpenAIChatModel(router_id, provider=provider), output_type=Forecast)
    # The first answer breaks the output tool's schema; relaygate asks again.
    call = {"id": "c1", "type": "function", "function": {"name": "final_result", "arguments": '{"city": 1}'}}
    upstream.script("/chat/completions", [Fault(body=completion({"content": None, "tool_calls": [call]}))])
    result = agent.run_sync("Forecast for Paris")
    assert result.output == Forecast(city="x", days=1)
    assert strict_headers == ["emulated"]  # one call for pydantic-ai: relaygate asked twice
    first, second = sent(upstream)
    assert second == first
    assert first["tools"][0]["function"]["name"] == "final_result"
    assert "strict" not in first["tools"][0]["function"]


def test_pydantic_ai_gets_a_native_json_schema_answer(
    routed: Workspace, tools_model: tuple[str, FakeUpstream]
) -> None:
    router_id, upstream = tools_model
    strict_headers: list[str | None] = []
    provider = OpenAIProvider(openai_client=recording_client(routed, strict_headers))
    agent = PydanticAgent(OpenAIChatModel(router_id, provider=provider), output_type=NativeOutput(Forecast))
    result = agent.run_sync("Forecast for Paris")
    assert result.output == Forecast(city="x", days=1)
    assert strict_headers == ["emulated"]
    [body] = sent(upstream)
    assert body["response_format"]["type"] == "json_schema"
    assert "strict" not in body["response_format"]["json_schema"]
