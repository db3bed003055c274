"""POST /responses with the official SDK: translated onto a chat-only upstream (whole and
streamed, text and function calls) and passed through to an upstream that has /responses."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import openai
import pytest

from support.server import Workspace
from support.usage_events import usage_events
from upstream import DEFAULT_REPLY, FakeUpstream

MODEL = "fake/gpt-test"
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TEXT_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


@pytest.fixture
def client(workspace: Workspace, upstream: FakeUpstream) -> Iterator[openai.OpenAI]:
    workspace.add_model(upstream, "gpt-test", supports_tool_calling=True)
    with workspace.client() as sdk:
        yield sdk


def _collapse(kinds: Sequence[str]) -> list[str]:
    return [kind for index, kind in enumerate(kinds) if index == 0 or kinds[index - 1] != kind]


def test_translated_create_answers_like_responses(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    raw = client.responses.with_raw_response.create(
        model=MODEL, input="Say hello", instructions="Be brief.", max_output_tokens=50
    )
    response = raw.parse()
    assert raw.headers["x-relaygate-translated"] == "chat.completions"
    assert response.output_text == DEFAULT_REPLY
    assert response.model == MODEL
    assert response.status == "completed"
    assert response.instructions == "Be brief."
    assert response.usage is not None
    assert response.usage.input_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    sent = upstream.requests_to("/chat/completions")[-1].json
    assert sent["model"] == "gpt-test"
    assert sent["max_tokens"] == 50
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]


def test_translated_stream_has_the_responses_event_sequence(client: openai.OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="Say hello") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert _collapse(kinds) == TEXT_EVENTS
    assert kinds.count("response.output_text.delta") > 1
    assert final.output_text == DEFAULT_REPLY
    assert final.usage is not None
    assert final.usage.output_tokens > 0
    created = client.responses.create(model=MODEL, input="Say hello", stream=True)
    events = list(created)
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[-1].type == "response.completed"


def test_translated_function_calls_whole_and_streamed(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    response = client.responses.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER])
    calls = [item for item in response.output if item.type == "function_call"]
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert set(json.loads(calls[0].arguments)) == {"city"}
    sent = upstream.requests_to("/chat/completions")[-1].json
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {k: WEATHER[k] for k in ("name", "description", "parameters")},
        }
    ]
    with client.responses.stream(model=MODEL, input="Weather?", tools=[WEATHER]) as stream:
        kinds = _collapse([event.type for event in stream])
        final = stream.get_final_response()
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    streamed = [item for item in final.output if item.type == "function_call"]
    assert streamed[0].arguments == calls[0].arguments


def test_function_call_outputs_become_tool_messages(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    history: list[Any] = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]
    response = client.responses.create(model=MODEL, input=history)
    assert response.output_text == DEFAULT_REPLY
    messages = upstream.requests_to("/chat/completions")[-1].json["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}


def test_json_schema_text_format_becomes_response_format(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    schema: dict[str, object] = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
    }
    raw = client.responses.with_raw_response.create(
        model=MODEL,
        input="a number",
        text={"format": {"type": "json_schema", "name": "num", "schema": schema, "strict": True}},
    )
    assert "n" in json.loads(raw.parse().output_text)
    sent = upstream.requests_to("/chat/completions")[-1].json
    # The model does not enforce strict schemas: relaygate checks the answer itself.
    assert raw.headers["x-relaygate-strict"] == "emulated"
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "num", "schema": schema},
    }


def test_what_cannot_be_translated_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as stateful:
        client.responses.create(model=MODEL, input="hi", previous_response_id="resp_123")
    assert stateful.value.param == "previous_response_id"
    assert "/responses" in stateful.value.message
    with pytest.raises(openai.BadRequestError) as builtin:  # relaygate searches, on a backend to set first
        client.responses.create(model=MODEL, input="hi", tools=[{"type": "web_search"}])
    assert (builtin.value.param, builtin.value.code) == ("tools", "search_backend_not_configured")


def test_pass_through_when_the_upstream_has_responses(
    workspace: Workspace, fake_upstream_factory: Any
) -> None:
    upstream: FakeUpstream = fake_upstream_factory(supports_responses=True)
    model = workspace.add_model(upstream, "gpt-test", provider="native")
    assert model["metadata"]["supports_responses_api"] is True  # found by the probe
    with workspace.client() as client:
        raw = client.responses.with_raw_response.create(model="native/gpt-test", input="Say hello")
        response = raw.parse()
        assert "x-relaygate-translated" not in raw.headers
        assert response.output_text == DEFAULT_REPLY
        assert response.model == "native/gpt-test"
        sent = upstream.requests_to("/responses")[-1].json
        assert sent == {"model": "gpt-test", "input": "Say hello"}
        with client.responses.stream(model="native/gpt-test", input="Say hello") as stream:
            kinds = _collapse([event.type for event in stream])
            final = stream.get_final_response()
    assert kinds == TEXT_EVENTS
    assert final.model == "native/gpt-test"
    assert final.usage is not None
    assert final.usage.total_tokens > 0
    assert upstream.requests_to("/chat/completions")[-1].json["max_tokens"] == 1  # only the probe's call


def test_translated_calls_record_their_tokens(workspace: Workspace, upstream: FakeUpstream) -> None:
    workspace.add_model(upstream, "gpt-test", provider="priced", input_cost=1, output_cost=2)
    with workspace.client() as client:
        whole = client.responses.create(model="priced/gpt-test", input="Say hello")
        with client.responses.stream(model="priced/gpt-test", input="Say hello") as stream:
            streamed = stream.get_final_response()
    assert whole.usage is not None
    assert streamed.usage is not None
    newest, oldest = usage_events(workspace, 2)
    for event, usage in ((oldest, whole.usage), (newest, streamed.usage)):
        assert event["endpoint"] == "responses"
        assert event["prompt_tokens"] == usage.input_tokens
        assert event["completion_tokens"] == usage.output_tokens
        assert event["cost_nano"] > 0
    assert newest["stream"] is True
