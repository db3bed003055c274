"""The invoke answer shapes in process: a whole chat completion rewritten, a chat stream
relayed as invoke chunks (checked against the Python SDK's own models), the SDK
vocabularies, and what accounting keeps of a deployment call."""

from __future__ import annotations

from typing import Any

import orjson
from orq_ai_sdk.models import DeploymentInvokeResponseBody, DeploymentStreamData

from relaygate.deployments.invoke_answer import InvokeAnswer
from relaygate.deployments.invoke_stream import InvokeStream
from relaygate.deployments.rendering import DeploymentUse, InvokeShape
from relaygate.deployments.sdk_shapes import function_tools, model_parameters, sdk_provider, version_label
from relaygate.router.call import PreparedCall
from relaygate.router.endpoints import ENDPOINTS
from relaygate.router.relay import Relayed
from relaygate.sse import event_object, split_events
from relaygate.usage.accounting import MAX_DOCUMENT_BYTES, CallEnd, account, bounded_documents
from relaygate.usage.identity import NOBODY

from support.models import routable_model

MODEL = routable_model("openai/gpt-test")
SHAPE = InvokeShape("01JZQ3F8B6W2Y9V4N7K5M1T0RA", "2026-01-01T00:00:00.000Z", "a" * 32, "b" * 16, True)
USE = DeploymentUse("support", 3, "production", invoke=SHAPE)
USAGE = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10, "prompt_tokens_details": None}


def _chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return b"data: " + orjson.dumps(
        {"id": "c1", "object": "chat.completion.chunk", "choices": [choice], **extra}
    )


def _relayed(events: list[bytes], shape: InvokeShape = SHAPE) -> tuple[InvokeStream, list[dict[str, Any]]]:
    relay = InvokeStream(shape, USE, MODEL)
    out = relay.on_events(events) + relay.on_end()
    chunks = [event_object(event) for event in split_events(out)]
    assert split_events(out)[-1] == b"data: [DONE]"
    return relay, [chunk for chunk in chunks if chunk is not None]


def test_a_whole_answer_is_rewritten_into_the_invoke_shape() -> None:
    chat = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-test",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
        "usage": USAGE,
    }

    answer = orjson.loads(InvokeAnswer(USE, SHAPE).rewrite(MODEL, orjson.dumps(chat)))

    assert answer == {
        "id": SHAPE.id,
        "created": SHAPE.created,
        "object": "chat",
        "model": "openai/gpt-test",
        "provider": "openai",
        "is_final": True,
        "telemetry": {"trace_id": "a" * 32, "span_id": "b" * 16},
        "deployment": {"key": "support", "version": 3, "variant": "production"},
        "choices": [
            {
                "index": 0,
                "message": {"type": "content", "role": "assistant", "content": "Hi"},
                "finish_reason": "stop",
            }
        ],
        "system_fingerprint": "fp_1",
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }
    DeploymentInvokeResponseBody.model_validate(answer)


def test_tool_calls_and_reasoning_keep_only_what_the_sdks_accept() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    message = {"role": "assistant", "content": None, "tool_calls": [call], "reasoning_content": "Thinking."}
    chat = {"choices": [{"message": message, "finish_reason": "tool_calls"}]}

    answer = orjson.loads(InvokeAnswer(USE, SHAPE).rewrite(MODEL, orjson.dumps(chat)))

    assert answer["choices"][0]["message"] == {
        "type": "tool_calls",
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "type": "function",
                "function": {"name": "lookup", "arguments": "{}"},
                "id": "call_1",
                "index": 0,
            }
        ],
        "reasoning": "Thinking.",
    }
    assert "usage" not in answer
    assert "system_fingerprint" not in answer
    DeploymentInvokeResponseBody.model_validate(answer)


def test_an_answer_that_is_not_a_json_object_is_left_as_it_is() -> None:
    assert InvokeAnswer(USE, SHAPE).rewrite(MODEL, b"[1, 2]") == b"[1, 2]"
    assert InvokeAnswer(USE, SHAPE).rewrite(MODEL, b"not json") == b"not json"


def test_an_upstream_error_gets_its_message_at_the_top_level_too() -> None:
    answer = InvokeAnswer(USE, SHAPE)
    error = {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error"}}
    assert orjson.loads(answer.error(orjson.dumps(error))) == {
        "message": "Incorrect API key provided.",
        **error,
    }
    assert orjson.loads(answer.error(b'{"error": "overloaded"}')) == {
        "message": "overloaded",
        "error": "overloaded",
    }
    assert (
        answer.error(b'{"message": "x", "error": {"message": "y"}}')
        == b'{"message": "x", "error": {"message": "y"}}'
    )
    assert answer.error(b"not json") == b"not json"


def test_a_stream_becomes_invoke_chunks_and_a_final_one_with_the_usage() -> None:
    events = [
        _chunk({"role": "assistant", "content": ""}, system_fingerprint="fp_1"),
        _chunk({"content": "Hel"}),
        _chunk({"content": "lo"}),
        _chunk({}, "stop"),
        b"data: " + orjson.dumps({"choices": [], "usage": USAGE}),
        b"data: [DONE]",
    ]

    relay, chunks = _relayed(events)

    assert [chunk["choices"][0]["message"]["content"] for chunk in chunks] == ["Hel", "lo", ""]
    assert [chunk["is_final"] for chunk in chunks] == [False, False, True]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert all("usage" not in chunk for chunk in chunks[:-1])
    assert {chunk["system_fingerprint"] for chunk in chunks} == {"fp_1"}
    assert (relay.usage, relay.saw_done, relay.events) == (USAGE, True, 6)
    for chunk in chunks:
        DeploymentStreamData.model_validate(chunk)


def test_usage_is_captured_but_not_shown_unless_asked() -> None:
    shape = InvokeShape(SHAPE.id, SHAPE.created, SHAPE.trace_id, SHAPE.span_id, include_usage=False)
    relay, chunks = _relayed([_chunk({"content": "Hi"}, "stop", usage=USAGE), b"data: [DONE]"], shape)
    assert relay.usage == USAGE
    assert all("usage" not in chunk for chunk in chunks)


def test_tool_call_pieces_stream_as_tool_calls_messages() -> None:
    first = {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "lookup"}}]}
    rest = {"tool_calls": [{"index": 0, "function": {"arguments": '{"a":1}'}}]}

    _, chunks = _relayed([_chunk(first), _chunk(rest), _chunk({}, "tool_calls"), b"data: [DONE]"])

    assert chunks[0]["choices"][0]["message"]["tool_calls"] == [
        {"type": "function", "function": {"name": "lookup", "arguments": ""}, "id": "call_1", "index": 0}
    ]
    assert chunks[1]["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == '{"a":1}'
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_an_upstream_that_ends_without_done_still_gets_a_final_chunk_and_done() -> None:
    relay, chunks = _relayed([_chunk({"content": "Hi"})])
    assert chunks[-1]["is_final"] is True
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert relay.saw_done


def test_nothing_is_made_up_for_an_upstream_that_sent_nothing() -> None:
    relay = InvokeStream(SHAPE, USE, MODEL)
    assert relay.on_end() == b""


def test_an_error_event_is_passed_on_and_comments_are_dropped() -> None:
    relay = InvokeStream(SHAPE, USE, MODEL)
    error = b'data: {"error": {"message": "overloaded"}}'
    assert relay.on_events([b": keep-alive", error]) == error + b"\n\n"


def test_the_sdk_vocabularies() -> None:
    assert (sdk_provider("OpenAI"), sdk_provider("fake"), sdk_provider("google-ai")) == (
        "openai",
        "openailike",
        "google-ai",
    )
    assert version_label(3) == "v3"
    parameters = {
        "max_tokens": 5,
        "max_completion_tokens": 9,
        "top_p": 0.1,
        "stop": ["x"],
        "seed": True,
        "temperature": None,
    }
    assert model_parameters(parameters) == {"maxTokens": 5, "topP": 0.1}
    tools = [{"type": "function", "function": {"name": "f", "strict": True}}, {"type": "web_search"}, "x"]
    assert function_tools(tools) == [{"type": "function", "function": {"name": "f", "strict": True}}]
    assert function_tools(None) == []


def test_accounting_records_the_deployment_and_bounds_its_documents() -> None:
    documents = tuple({"text": "x" * 30_000, "n": n} for n in range(4))
    use = DeploymentUse("support", 3, "production", documents)
    call = PreparedCall(
        ENDPOINTS["/chat/completions"], MODEL, {"messages": []}, False, {}, NOBODY, deployment=use
    )

    event = account(
        CallEnd("w1", "k1", "deployments.invoke", "req_1", call, relayed=Relayed(status=200, usage=USAGE))
    )

    assert (event.deployment_key, event.deployment_version, event.variant) == ("support", 3, "production")
    assert event.documents == [
        *documents[:2],
        {"note": f"2 of 4 documents left out: over {MAX_DOCUMENT_BYTES} bytes"},
    ]
    assert bounded_documents(documents[:1]) == [documents[0]]
