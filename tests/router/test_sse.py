"""Upstreams whose event streams end lines with CRLF or a lone CR (SSE allows all three):
relaygate reads them like LF streams and relays them as OpenAI writes them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.server import Workspace
from support.usage_events import usage_event
from upstream import DEFAULT_REPLY, FakeUpstream, Fault

ENDINGS = [pytest.param(b"\r\n", id="crlf"), pytest.param(b"\r", id="cr")]
USER: Any = [{"role": "user", "content": "hi"}]


def _events(body: bytes) -> list[bytes]:
    assert body.endswith(b"\n\n")
    assert b"\r" not in body
    return body[:-2].split(b"\n\n")


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_chat_stream_of_any_line_ending(
    workspace: Workspace, chat_model: dict[str, Any], upstream: FakeUpstream, ending: bytes
) -> None:
    upstream.script("/chat/completions", [Fault(line_ending=ending)])
    response = workspace.api(
        "POST",
        "/v3/router/chat/completions",
        json={"model": chat_model["router_id"], "messages": USER, "stream": True},
    )
    assert response.status_code == 200
    events = _events(response.content)
    assert events[-1] == b"data: [DONE]"
    chunks = [json.loads(event.removeprefix(b"data: ")) for event in events[:-1]]
    assert "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks) == DEFAULT_REPLY
    assert {chunk["model"] for chunk in chunks} == {chat_model["router_id"]}
    assert b'"usage"' not in response.content  # relaygate asked for it: the client does not see it
    event = usage_event(workspace, response.headers["x-request-id"])
    assert event["completion_tokens"] > 0
    assert not event["estimated"]  # read from the upstream's usage chunk


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_translated_responses_stream_of_any_line_ending(
    workspace: Workspace, chat_model: dict[str, Any], upstream: FakeUpstream, ending: bytes
) -> None:
    upstream.script("/chat/completions", [Fault(line_ending=ending)])
    with workspace.client() as client:
        events = list(client.responses.create(model=chat_model["router_id"], input="hi", stream=True))
    assert events[-1].type == "response.completed"
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == DEFAULT_REPLY
    assert events[-1].response.usage is not None
    assert events[-1].response.usage.output_tokens > 0


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_passed_through_responses_stream_of_any_line_ending(
    workspace: Workspace, fake_upstream_factory: Any, ending: bytes
) -> None:
    native: FakeUpstream = fake_upstream_factory(supports_responses=True)
    model = workspace.add_model(native, "gpt-test", provider="native-sse")
    native.script("/responses", [Fault(line_ending=ending)])
    response = workspace.api(
        "POST", "/v3/router/responses", json={"model": model["router_id"], "input": "hi", "stream": True}
    )
    assert response.status_code == 200
    events = _events(response.content)
    assert all(event.startswith(b"event: response.") for event in events)
    assert b"response.completed" in events[-1]
    event = usage_event(workspace, response.headers["x-request-id"])
    assert event["completion_tokens"] > 0
    assert not event["estimated"]  # read from response.completed
