"""Prompts and answers reach usage events only when the operator turns body logging on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest

from support.server import RelaygateServer, Workspace
from support.usage_events import usage_events
from upstream import FakeUpstream

ServerFactory = Callable[..., RelaygateServer]
PROMPT = "What is the airspeed of an unladen swallow?"
MESSAGES: list[Any] = [{"role": "user", "content": PROMPT}]


def test_bodies_are_not_kept_by_default(workspace: Workspace, upstream: FakeUpstream) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    workspace.client().chat.completions.create(model=model, messages=MESSAGES)
    (event,) = usage_events(workspace, 1)
    assert "request_body" not in event  # not kept: absent, never null
    assert "response_body" not in event


def test_bodies_are_kept_when_turned_on(relaygate_factory: ServerFactory, upstream: FakeUpstream) -> None:
    server = relaygate_factory(RELAYGATE_LOG_BODIES="1", RELAYGATE_LOG_BODY_BYTES="2000")
    workspace = server.new_workspace()
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    client = workspace.client()
    unary = client.chat.completions.create(model=model, messages=MESSAGES)
    streamed = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(model=model, messages=MESSAGES, stream=True)
        if chunk.choices
    )
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="fake/no-such-model", messages=MESSAGES)
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x" * 5000}])

    long, missing, stream, single = usage_events(workspace, 4)
    assert PROMPT in single["request_body"]
    assert unary.choices[0].message.content in single["response_body"]
    assert '"model":"' + model + '"' in single["response_body"], "the answer as the client got it"
    assert PROMPT in stream["request_body"]
    assert stream["response_body"].startswith("data: ")
    assert streamed
    assert all(word in stream["response_body"] for word in streamed.split()[:3])
    assert missing["status"] == 404
    assert "model_not_found" in missing["response_body"]
    assert long["request_body"].startswith('{"')
    assert "\n[cut: " in long["request_body"], "a body over RELAYGATE_LOG_BODY_BYTES is cut, and says so"
    assert len(long["request_body"]) < 2100
    for event in (single, stream, missing, long):
        assert workspace.admin_key not in (event["request_body"] or "") + (event["response_body"] or "")
