"""Requests a model cannot serve are refused before they leave relaygate, with a 400 that names
the model, the capability and how to enable it; reasoning_effort is removed, and said so."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from support.server import Workspace
from upstream import PNG_1X1, FakeUpstream, Fault

IMAGE = "data:image/png;base64," + base64.b64encode(PNG_1X1).decode()
LOOK: list[Any] = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": IMAGE}},
        ],
    }
]
HI: list[Any] = [{"role": "user", "content": "hi"}]
TOOL: Any = {
    "type": "function",
    "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}},
}
STRICT_TOOL: Any = {"type": "function", "function": {**TOOL["function"], "strict": True}}


@pytest.fixture
def plain(workspace: Workspace, upstream: FakeUpstream) -> dict[str, Any]:
    """A chat model that claims nothing."""
    return workspace.add_model(upstream, "gpt-test", provider="plain")


@pytest.fixture
def client(workspace: Workspace) -> Iterator[openai.OpenAI]:
    with workspace.client() as sdk:
        yield sdk


def refused(client: openai.OpenAI, model: dict[str, Any], capability: str, **request: Any) -> str:
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=model["router_id"], **request)
    assert error.value.code == "capability_not_supported"
    message = error.value.message
    assert model["router_id"] in message
    assert capability in message
    assert f"PATCH /v2/models/openai-like/{model['id']} with {capability}: true" in message
    return message


def test_each_missing_capability_is_refused_before_the_upstream(
    client: openai.OpenAI, plain: dict[str, Any], upstream: FakeUpstream
) -> None:
    before = len(upstream.requests_to("/chat/completions"))
    refused(client, plain, "supports_vision", messages=LOOK)
    refused(client, plain, "supports_tool_calling", messages=HI, tools=[TOOL])
    refused(client, plain, "supports_tool_calling", messages=HI, functions=[TOOL["function"]])
    assert len(upstream.requests_to("/chat/completions")) == before


def test_strict_tools_need_supports_strict_tool_in_reject_mode(
    client: openai.OpenAI, workspace: Workspace, upstream: FakeUpstream
) -> None:
    model = workspace.add_model(
        upstream,
        "gpt-test",
        provider="tools",
        supports_tool_calling=True,
        configuration={"strict_mode": "reject"},  # default "emulate": tests/router/test_strict_emulation.py
    )
    client.chat.completions.create(model="tools/gpt-test", messages=HI, tools=[TOOL])
    refused(client, model, "supports_strict_tool", messages=HI, tools=[STRICT_TOOL])


def test_a_capable_model_gets_images_and_tools(
    client: openai.OpenAI, workspace: Workspace, upstream: FakeUpstream
) -> None:
    workspace.add_model(
        upstream,
        "gpt-test",
        provider="able",
        supports_vision=True,
        supports_tool_calling=True,
        supports_strict_tool=True,
    )
    answer = client.chat.completions.create(model="able/gpt-test", messages=LOOK, tools=[STRICT_TOOL])
    assert answer.choices[0].message.tool_calls
    assert upstream.requests_to("/chat/completions")[-1].json["messages"] == LOOK


def test_file_and_input_audio_parts_pass_through(
    client: openai.OpenAI, plain: dict[str, Any], upstream: FakeUpstream
) -> None:
    content: list[Any] = [
        {"type": "text", "text": "Summarise both."},
        {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"}},
        {
            "type": "input_audio",
            "input_audio": {"data": base64.b64encode(b"RIFF....").decode(), "format": "wav"},
        },
    ]
    client.chat.completions.create(model="plain/gpt-test", messages=[{"role": "user", "content": content}])
    assert upstream.requests_to("/chat/completions")[-1].json["messages"][0]["content"] == content


def test_reasoning_effort_goes_only_to_reasoning_models(
    client: openai.OpenAI, plain: dict[str, Any], workspace: Workspace, upstream: FakeUpstream
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="plain/gpt-test", messages=HI, reasoning_effort="high"
    )
    assert raw.headers["x-relaygate-removed-params"] == "reasoning_effort"
    assert "reasoning_effort" not in upstream.requests_to("/chat/completions")[-1].json
    workspace.add_model(upstream, "gpt-test", provider="thinker", has_reasoning=True)
    kept = client.chat.completions.with_raw_response.create(
        model="thinker/gpt-test", messages=HI, reasoning_effort="high"
    )
    assert "x-relaygate-removed-params" not in kept.headers
    assert upstream.requests_to("/chat/completions")[-1].json["reasoning_effort"] == "high"


def test_endpoint_and_model_type_must_match(
    client: openai.OpenAI, plain: dict[str, Any], workspace: Workspace, upstream: FakeUpstream
) -> None:
    workspace.add_model(upstream, "embed-test", model_type="embedding")
    with pytest.raises(openai.BadRequestError) as images:
        client.images.generate(model="fake/embed-test", prompt="a cat")
    assert images.value.code == "model_type_mismatch"
    assert "an embedding model" in images.value.message
    assert "an image model" in images.value.message
    with pytest.raises(openai.BadRequestError) as speech:
        client.audio.speech.create(model="plain/gpt-test", voice="alloy", input="hi")
    assert "a text-to-speech model" in speech.value.message
    with pytest.raises(openai.BadRequestError) as transcription:
        client.audio.transcriptions.create(model="plain/gpt-test", file=("a.wav", b"RIFF"))
    assert transcription.value.code == "model_type_mismatch"


def test_responses_are_checked_too(client: openai.OpenAI, plain: dict[str, Any]) -> None:
    image_input: Any = [
        {
            "role": "user",
            "content": [{"type": "input_image", "image_url": IMAGE}, {"type": "input_text", "text": "?"}],
        }
    ]
    with pytest.raises(openai.BadRequestError) as vision:
        client.responses.create(model="plain/gpt-test", input=image_input)
    assert "supports_vision" in vision.value.message
    tool: Any = {"type": "function", "name": "ping", "parameters": {"type": "object", "properties": {}}}
    with pytest.raises(openai.BadRequestError) as tools:
        client.responses.create(model="plain/gpt-test", input="hi", tools=[tool])
    assert "supports_tool_calling" in tools.value.message


def test_a_fallback_must_have_the_capabilities_the_call_needs(
    client: openai.OpenAI, plain: dict[str, Any], workspace: Workspace, upstream: FakeUpstream
) -> None:
    seeing = workspace.add_model(upstream, "gpt-test", provider="seeing", supports_vision=True)
    before = len(upstream.requests_to("/chat/completions"))
    routing = {"fallbacks": [{"model": plain["router_id"]}]}
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=seeing["router_id"], messages=LOOK, extra_body=routing)
    assert error.value.code == "capability_not_supported"
    assert plain["router_id"] in error.value.message, "the refusal names the fallback that cannot see"
    assert len(upstream.requests_to("/chat/completions")) == before, "nothing was sent"
    # Without the image the same fallback is fine; one that can see is fine with it.
    client.chat.completions.create(model=seeing["router_id"], messages=HI, extra_body=routing)
    both = {"fallbacks": [{"model": seeing["router_id"]}]}
    client.chat.completions.create(model=seeing["router_id"], messages=LOOK, extra_body=both)


def test_reasoning_effort_is_removed_for_a_fallback_without_reasoning(
    client: openai.OpenAI, plain: dict[str, Any], workspace: Workspace, upstream: FakeUpstream
) -> None:
    thinker = workspace.add_model(upstream, "gpt-test", provider="thinker2", has_reasoning=True)
    upstream.script("/chat/completions", [Fault(status=503)])
    client.chat.completions.create(
        model=thinker["router_id"],
        messages=HI,
        reasoning_effort="high",
        extra_body={"fallbacks": [{"model": plain["router_id"]}]},
    )
    first, second = upstream.requests_to("/chat/completions")[-2:]
    assert first.json["reasoning_effort"] == "high"
    assert "reasoning_effort" not in second.json, "the fallback cannot reason: the field is left out"
    assert second.json["model"] == "gpt-test"
