"""Chat completions through relaygate with the official SDK, against a real fake upstream."""

from __future__ import annotations

import time
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionContentPartImageParam

from support.server import Workspace
from upstream import DEFAULT_REPLY, FakeUpstream, Fault

MODEL = "fake/gpt-test"


def test_unary_chat_answers_with_router_id_and_usage(
    workspace: Workspace, chat_model: dict[str, Any]
) -> None:
    client = workspace.client()
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hello"}]
    )
    completion = raw.parse()
    assert completion.model == MODEL
    assert completion.choices[0].message.content == DEFAULT_REPLY
    assert completion.usage is not None
    assert completion.usage.total_tokens > 0
    assert raw.headers["x-relaygate-model"] == MODEL
    assert raw.headers["x-request-id"].startswith("req_")
    assert float(raw.headers["x-relaygate-overhead-ms"]) >= 0


def test_model_is_rewritten_upstream_and_unknown_fields_pass_through(
    workspace: Workspace, chat_model: dict[str, Any], upstream: FakeUpstream
) -> None:
    workspace.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"top_k": 7, "vendor_extension": {"nested": [1, 2]}, "fallbacks": [{"model": MODEL}]},
    )
    sent = upstream.requests_to("/v1/chat/completions")[-1].json
    assert sent is not None
    assert sent["model"] == "gpt-test"
    assert sent["top_k"] == 7
    assert sent["vendor_extension"] == {"nested": [1, 2]}
    assert "fallbacks" not in sent  # relaygate's routing fields never reach the upstream


def test_model_defaults_fill_only_what_the_request_left_out(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    workspace.add_model(upstream, "gpt-test", provider="defaults", max_tokens=50, temperature=0.3)
    client = workspace.client()
    client.chat.completions.create(model="defaults/gpt-test", messages=[{"role": "user", "content": "hi"}])
    sent = upstream.requests_to("/v1/chat/completions")[-1].json
    assert sent is not None
    assert sent["max_tokens"] == 50
    assert sent["temperature"] == 0.3
    client.chat.completions.create(
        model="defaults/gpt-test", messages=[{"role": "user", "content": "hi"}], max_tokens=5, temperature=1.0
    )
    sent = upstream.requests_to("/v1/chat/completions")[-1].json
    assert sent is not None
    assert sent["max_tokens"] == 5
    assert sent["temperature"] == 1.0
    client.chat.completions.create(
        model="defaults/gpt-test", messages=[{"role": "user", "content": "hi"}], max_completion_tokens=9
    )
    sent = upstream.requests_to("/v1/chat/completions")[-1].json
    assert sent is not None
    assert "max_tokens" not in sent
    assert sent["max_completion_tokens"] == 9


@pytest.mark.serial  # a bound of 0.25 s on the first event
def test_streamed_events_reach_the_client_as_they_arrive(
    workspace: Workspace, chat_model: dict[str, Any], upstream: FakeUpstream
) -> None:
    # The response head is held back for one loop step to share a socket write with the
    # first event (write_coalescing.py): nothing may wait for the upstream's next event.
    upstream.script("/chat/completions", [Fault(chunk_delay=0.3)])
    started = time.monotonic()
    stream = workspace.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    arrivals = [time.monotonic() - started for _ in stream]
    assert len(arrivals) >= 3
    assert arrivals[0] < 0.25
    assert arrivals[1] - arrivals[0] > 0.2  # each event came on its own, when the upstream sent it
    assert arrivals[-1] > 0.3 * (len(arrivals) - 2)


def test_streaming_hides_the_usage_chunk_the_client_did_not_ask_for(
    workspace: Workspace, chat_model: dict[str, Any], upstream: FakeUpstream
) -> None:
    stream = workspace.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    chunks = list(stream)
    assert chunks, "no chunks"
    assert all(chunk.model == MODEL for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)
    assert all(chunk.choices for chunk in chunks), "a usage-only chunk leaked to the client"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == DEFAULT_REPLY
    sent = upstream.requests_to("/v1/chat/completions")[-1].json
    assert sent is not None
    assert sent["stream_options"] == {"include_usage": True}


def test_streaming_with_include_usage_shows_the_usage_chunk(
    workspace: Workspace, chat_model: dict[str, Any]
) -> None:
    stream = workspace.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_raw_stream_keeps_done_marker(workspace: Workspace, chat_model: dict[str, Any]) -> None:
    response = workspace.api(
        "POST",
        "/v3/router/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True},
    )
    body = response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert body.rstrip().endswith("data: [DONE]")
    assert '"usage"' not in body


def test_tools_and_parallel_tool_calls(workspace: Workspace, upstream: FakeUpstream) -> None:
    workspace.add_model(upstream, "gpt-test", provider="tools", supports_tool_calling=True)
    tools: list[Any] = [
        {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {}}}}
        for name in ("get_weather", "get_time")
    ]
    completion = workspace.client().chat.completions.create(
        model="tools/gpt-test",
        messages=[{"role": "user", "content": "weather and time?"}],
        tools=tools,
        tool_choice="auto",
    )
    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    assert len(calls) == 2
    assert completion.choices[0].finish_reason == "tool_calls"
    sent = upstream.requests_to("/v1/chat/completions")[-1].json
    assert sent is not None
    assert sent["tool_choice"] == "auto"
    assert len(sent["tools"]) == 2


def test_streamed_tool_calls(workspace: Workspace, upstream: FakeUpstream) -> None:
    workspace.add_model(upstream, "gpt-test", provider="stools", supports_tool_calling=True)
    tool: Any = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    stream = workspace.client().chat.completions.create(
        model="stools/gpt-test", messages=[{"role": "user", "content": "x"}], tools=[tool], stream=True
    )
    names = [
        call.function.name
        for chunk in stream
        for choice in chunk.choices
        for call in choice.delta.tool_calls or []
        if call.function and call.function.name
    ]
    assert names == ["lookup"]


def test_structured_output_json_schema(workspace: Workspace, chat_model: dict[str, Any]) -> None:
    completion = workspace.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "a city"}],
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "city",
                "strict": True,
                "schema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                },
            },
        },
    )
    import json

    assert json.loads(completion.choices[0].message.content or "") == {"name": "x"}


def test_vision_parts_n_and_logprobs_pass_through(workspace: Workspace, upstream: FakeUpstream) -> None:
    workspace.add_model(upstream, "gpt-test", provider="vision", supports_vision=True)
    image: ChatCompletionContentPartImageParam = {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
    }
    completion = workspace.client().chat.completions.create(
        model="vision/gpt-test",
        messages=[{"role": "user", "content": [{"type": "text", "text": "what is it"}, image]}],
        n=2,
        logprobs=True,
    )
    assert len(completion.choices) == 2
    assert completion.choices[0].logprobs is not None
    sent = upstream.requests_to("/v1/chat/completions")[-1].json
    assert sent is not None
    assert sent["messages"][0]["content"][1] == image


def test_v2_router_prefix_is_an_alias(workspace: Workspace, chat_model: dict[str, Any]) -> None:
    client = openai.OpenAI(
        base_url=f"{workspace.server.url}/v2/router", api_key=workspace.admin_key, max_retries=0
    )
    completion = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert completion.model == MODEL


@pytest.mark.parametrize("path_id", ["fake/gpt-test", "fake%2Fgpt-test"])
def test_models_list_and_get(workspace: Workspace, chat_model: dict[str, Any], path_id: str) -> None:
    client = workspace.client()
    assert [model.id for model in client.models.list()] == [MODEL]
    response = workspace.api("GET", f"/v3/router/models/{path_id}")
    assert response.status_code == 200
    assert response.json() == {
        "id": MODEL,
        "object": "model",
        "created": response.json()["created"],
        "owned_by": "fake",
    }
    assert client.models.retrieve(MODEL).id == MODEL


def test_router_key_can_route(workspace: Workspace, chat_model: dict[str, Any]) -> None:
    key = workspace.new_key("router")
    completion = workspace.client(key).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == DEFAULT_REPLY
