"""Each candidate model gets the request built for it (issue 22): a ``/responses`` call that
falls back from a model with its own Responses API to a chat-only one is translated for the
fallback, and the fallback's capabilities are checked before anything is sent."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import openai
import pytest

from support.server import Workspace
from support.usage_events import usage_events
from upstream import FakeUpstream, Fault

WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def _native(routed: Workspace, factory: Callable[..., FakeUpstream]) -> tuple[str, FakeUpstream]:
    """A model whose upstream has /responses (found by the probe), with tool calling."""
    upstream = factory(supports_responses=True, reply="from native")
    model = routed.add_model(
        upstream, "gpt-test", provider=f"native-{uuid.uuid4().hex[:8]}", supports_tool_calling=True
    )
    assert model["metadata"]["supports_responses_api"] is True
    upstream.reset()
    return str(model["router_id"]), upstream


def test_a_responses_fallback_to_a_chat_only_model_is_translated_for_it(
    routed: Workspace, make_model: Callable[..., tuple[str, FakeUpstream]], fake_upstream_factory: Any
) -> None:
    primary, native = _native(routed, fake_upstream_factory)
    backup, chat_only = make_model("b")
    native.script("/responses", [Fault(status=503)])
    client = routed.client()
    raw = client.responses.with_raw_response.create(
        model=primary, input="Say hello", extra_body={"fallbacks": [{"model": backup}]}
    )
    response = raw.parse()
    assert raw.headers["x-relaygate-fallback"] == "true"
    assert raw.headers["x-relaygate-model"] == backup
    assert raw.headers["x-relaygate-translated"] == "chat.completions"
    assert response.output_text == "from b"
    assert response.model == backup
    assert chat_only.requests_to("/responses") == []
    sent = chat_only.requests_to("/chat/completions")[-1].json
    assert sent["model"] == "gpt-test"
    assert sent["messages"] == [{"role": "user", "content": "Say hello"}]
    event = usage_events(routed, 1)[0]
    assert event["router_model"] == backup
    assert event["fallback_used"] is True
    assert event["completion_tokens"] > 0


def test_a_responses_stream_falls_back_to_a_translated_stream(
    routed: Workspace, make_model: Callable[..., tuple[str, FakeUpstream]], fake_upstream_factory: Any
) -> None:
    primary, native = _native(routed, fake_upstream_factory)
    backup, _ = make_model("b")
    native.script("/responses", [Fault(status=503)])
    with routed.client().responses.stream(
        model=primary, input="Say hello", extra_body={"fallbacks": [{"model": backup}]}
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    assert final.output_text == "from b"
    assert final.model == backup


def test_a_responses_fallback_without_a_capability_the_call_needs_is_refused_first(
    routed: Workspace, make_model: Callable[..., tuple[str, FakeUpstream]], fake_upstream_factory: Any
) -> None:
    primary, native = _native(routed, fake_upstream_factory)
    backup, chat_only = make_model("b")  # no tool calling
    with pytest.raises(openai.BadRequestError) as refused:
        routed.client().responses.create(
            model=primary,
            input="Weather in Paris?",
            tools=[WEATHER],
            extra_body={"fallbacks": [{"model": backup}]},
        )
    assert refused.value.code == "capability_not_supported"
    assert backup in str(refused.value.message)
    assert native.requests == []
    assert chat_only.requests == []
