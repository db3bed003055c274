"""Endpoint adapters: each candidate model gets the request built for it, from a body that
never changes (issue 22)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from relaygate.errors import InvalidRequest
from relaygate.router.answers import PLAIN
from relaygate.router.call import PreparedCall, extract_routing
from relaygate.router.endpoints import ENDPOINTS
from relaygate.router.forward import ADAPTERS, Requests
from relaygate.router.responses_api.serving import PASS_THROUGH, TranslatedAnswer
from relaygate.usage.identity import NOBODY

from support.models import routable_model

STRICT_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "where",
        "strict": True,
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _call(path: str, body: dict[str, Any], **model_fields: Any) -> PreparedCall:
    routing = extract_routing(body)
    return PreparedCall(
        ENDPOINTS[path], routable_model(**model_fields), body, body.get("stream") is True, routing, NOBODY
    )


def _sent(payload: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(payload)
    return decoded


def test_a_chat_request_carries_the_models_id_and_defaults_and_leaves_the_call_alone() -> None:
    body = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    call = _call("/chat/completions", dict(body), max_tokens=64, temperature=0.5)
    request = ADAPTERS["json"].request_for(call.model, call)
    assert request.path == "/chat/completions"
    assert request.sse
    assert request.hide_usage
    assert request.answer is PLAIN
    assert _sent(request.payload) == {
        **body,
        "model": "gpt-test",
        "max_tokens": 64,
        "temperature": 0.5,
        "stream_options": {"include_usage": True},
    }
    assert call.body == body


def test_a_client_that_asked_for_usage_sees_it() -> None:
    body = {"model": "m", "messages": [], "stream": True, "stream_options": {"include_usage": True}}
    call = _call("/chat/completions", body)
    assert not ADAPTERS["json"].request_for(call.model, call).hide_usage


def test_each_model_gets_its_own_defaults_and_capability_checks() -> None:
    call = _call(
        "/chat/completions",
        {"model": "m", "messages": [], "reasoning_effort": "high"},
        max_tokens=10,
        capabilities={"has_reasoning": True},
    )
    other = routable_model("other/small", max_tokens=5, temperature=0.2)
    first, second = (ADAPTERS["json"].request_for(model, call) for model in (call.model, other))
    assert _sent(first.payload)["reasoning_effort"] == "high"
    assert _sent(first.payload)["max_tokens"] == 10
    assert "reasoning_effort" not in _sent(second.payload)  # removed for a model without reasoning
    assert (b"x-relaygate-removed-params", b"reasoning_effort") in second.notes
    assert _sent(second.payload) == {"model": "small", "messages": [], "max_tokens": 5, "temperature": 0.2}


def test_a_model_of_another_type_cannot_be_a_candidate() -> None:
    call = _call("/chat/completions", {"model": "m", "messages": []})
    with pytest.raises(InvalidRequest) as refused:
        ADAPTERS["json"].request_for(routable_model("e/embed", model_type="embedding"), call)
    assert refused.value.code == "model_type_mismatch"


def test_strict_tools_are_emulated_for_one_model_and_kept_for_another() -> None:
    call = _call(
        "/chat/completions",
        {"model": "m", "messages": [], "tools": [STRICT_TOOL], "stream": True},
        capabilities={"supports_tool_calling": True},
    )
    enforcing = routable_model(
        "b/enforcing", capabilities={"supports_tool_calling": True, "supports_strict_tool": True}
    )
    emulated = ADAPTERS["json"].request_for(call.model, call)
    kept = ADAPTERS["json"].request_for(enforcing, call)
    assert emulated.strict is not None
    assert not emulated.streams  # the whole answer is checked, then replayed as a stream
    assert "strict" not in _sent(emulated.payload)["tools"][0]["function"]
    assert kept.strict is None
    assert _sent(kept.payload)["tools"][0]["function"]["strict"] is True
    assert call.body["tools"][0]["function"]["strict"] is True  # the call's body is never changed


def test_speech_answers_are_bytes() -> None:
    call = _call("/audio/speech", {"model": "m", "input": "hi", "voice": "alloy"}, model_type="tts")
    request = ADAPTERS["binary"].request_for(call.model, call)
    assert request.answer.binary
    assert request.streams
    assert not request.sse


def test_responses_go_to_each_model_as_it_can_take_them() -> None:
    call = _call("/responses", {"model": "m", "input": "Say hello", "max_output_tokens": 20})
    native = routable_model("n/native", capabilities={"supports_responses_api": True})
    translated = ADAPTERS["responses"].request_for(call.model, call)
    passed = ADAPTERS["responses"].request_for(native, call)
    assert passed.path == "/responses"
    assert passed.answer is PASS_THROUGH
    assert _sent(passed.payload) == {"model": "native", "input": "Say hello", "max_output_tokens": 20}
    assert translated.path == "/chat/completions"
    assert isinstance(translated.answer, TranslatedAnswer)
    assert (b"x-relaygate-translated", b"chat.completions") in translated.notes
    sent = _sent(translated.payload)
    assert sent["messages"] == [{"role": "user", "content": "Say hello"}]
    assert sent["max_tokens"] == 20


def test_requests_are_built_once_per_model() -> None:
    call = _call("/embeddings", {"model": "m", "input": "hi"}, model_type="embedding")
    requests = Requests(call)
    assert requests.for_model(call.model) is requests.for_model(call.model)
    assert _sent(requests.for_model(call.model).payload) == {"model": "gpt-test", "input": "hi"}
