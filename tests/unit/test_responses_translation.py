"""Responses onto chat completions and back: the request, the whole answer, the stream."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from relaygate.errors import InvalidRequest
from relaygate.router.responses_api.stream import ResponsesStream
from relaygate.router.responses_api.translate import chat_to_response, request_to_chat
from relaygate.sse import SseDecoder

# -- the request ---------------------------------------------------------------------------


def test_text_input_instructions_and_options_become_chat_fields() -> None:
    chat = request_to_chat(
        {
            "model": "fake/gpt-test",
            "instructions": "Be brief.",
            "input": "Hello",
            "max_output_tokens": 50,
            "reasoning": {"effort": "low"},
            "text": {"verbosity": "low", "format": {"type": "json_object"}},
            "store": True,
            "include": ["reasoning.encrypted_content"],
            "temperature": 0.2,
            "seed": 7,  # unknown here: passed on as it came
        }
    )
    assert chat == {
        "model": "fake/gpt-test",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
        "max_tokens": 50,
        "reasoning_effort": "low",
        "verbosity": "low",
        "response_format": {"type": "json_object"},
        "temperature": 0.2,
        "seed": 7,
    }


def test_message_items_with_parts_keep_their_roles_and_media() -> None:
    chat = request_to_chat(
        {
            "input": [
                {"role": "developer", "content": "Rules."},
                {
                    "type": "message",
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "What is this?"},
                        {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
                        {
                            "type": "input_file",
                            "file_data": "data:application/pdf;base64,JVBE",
                            "filename": "a.pdf",
                        },
                        {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
                    ],
                },
                {"role": "assistant", "content": [{"type": "output_text", "text": "A cat."}]},
                {"type": "reasoning", "summary": []},  # the model's own: not sent back
                {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {}},
            ]
        }
    )
    assert chat["messages"] == [
        {"role": "system", "content": "Rules."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
                {
                    "type": "file",
                    "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "a.pdf"},
                },
                {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
            ],
        },
        {"role": "assistant", "content": "A cat."},
    ]


def test_function_calls_and_their_outputs_become_one_assistant_turn_and_tool_messages() -> None:
    chat = request_to_chat(
        {
            "input": [
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {
                    "type": "function_call",
                    "call_id": "c1",
                    "name": "weather",
                    "arguments": '{"city":"Paris"}',
                },
                {"type": "function_call", "call_id": "c2", "name": "weather", "arguments": ""},
                {"type": "function_call_output", "call_id": "c1", "output": "18 C"},
                {
                    "type": "function_call_output",
                    "call_id": "c2",
                    "output": [{"type": "input_text", "text": "21 C"}],
                },
            ],
            "tools": [
                {"type": "function", "name": "weather", "parameters": {"type": "object"}, "strict": True},
            ],
            "tool_choice": {"type": "function", "name": "weather"},
        }
    )
    assert chat["messages"][1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                },
                {"id": "c2", "type": "function", "function": {"name": "weather", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "18 C"},
        {"role": "tool", "tool_call_id": "c2", "content": "21 C"},
    ]
    assert chat["tools"] == [
        {
            "type": "function",
            "function": {"name": "weather", "parameters": {"type": "object"}, "strict": True},
        }
    ]
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "weather"}}


def test_a_json_schema_format_becomes_a_chat_response_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    chat = request_to_chat(
        {
            "input": "x",
            "text": {"format": {"type": "json_schema", "name": "A", "schema": schema, "strict": True}},
        }
    )
    assert chat["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "A", "schema": schema, "strict": True},
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x", "previous_response_id": "resp_1"}, "previous_response_id"),
        ({"input": "x", "conversation": "conv_1"}, "conversation"),
        ({"input": [{"type": "file_search_call"}]}, "input"),
        ({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]}, "input"),
        ({"input": [{"role": "user", "content": [{"type": "input_video"}]}]}, "input"),
        ({"input": "x", "tools": [{"type": "web_search"}]}, "tools"),
        ({"input": "x", "tool_choice": {"type": "web_search"}}, "tool_choice"),
    ],
)
def test_what_needs_a_responses_upstream_is_refused_with_a_400_saying_so(
    body: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_to_chat(body)
    assert (caught.value.param, caught.value.code) == (param, "unsupported_in_translation")
    assert "supports_responses_api" in caught.value.message


@pytest.mark.parametrize(
    "body", [{}, {"input": 3}, {"input": ["text"]}, {"input": [{"role": "user", "content": ["text"]}]}]
)
def test_a_malformed_input_is_a_400_on_input(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_to_chat(body)
    assert caught.value.param == "input"


# -- the whole answer ------------------------------------------------------------------------

CHAT_USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": 5,
    "total_tokens": 17,
    "prompt_tokens_details": {"cached_tokens": 4},
    "completion_tokens_details": {"reasoning_tokens": 2},
}
RESPONSES_USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 4},
    "output_tokens": 5,
    "output_tokens_details": {"reasoning_tokens": 2},
    "total_tokens": 17,
}


def chat_answer(message: dict[str, Any], finish_reason: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc-123",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-test",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": CHAT_USAGE,
    }


def test_a_text_answer_is_one_completed_message_item_with_usage() -> None:
    request = {"input": "Hi", "temperature": 0.5, "instructions": "Be brief."}
    response = chat_to_response(chat_answer({"role": "assistant", "content": "Hello!"}), request, "fake/gpt")
    assert response["id"] == "resp_abc123"
    assert (response["object"], response["status"], response["model"]) == (
        "response",
        "completed",
        "fake/gpt",
    )
    assert response["created_at"] == 1_700_000_000
    assert response["output"] == [
        {
            "id": "msg_abc123",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hello!", "annotations": [], "logprobs": []}],
        }
    ]
    assert response["usage"] == RESPONSES_USAGE
    # Request fields are echoed, OpenAI's defaults fill the others.
    assert (response["temperature"], response["instructions"], response["top_p"]) == (0.5, "Be brief.", 1.0)
    assert response["store"] is False


def test_tool_calls_become_function_call_items_and_a_cut_answer_is_incomplete() -> None:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
            },
            {"id": "call_2", "type": "function", "function": {"name": "time", "arguments": "{}"}},
        ],
    }
    response = chat_to_response(chat_answer(message, finish_reason="length"), {"input": "x"}, "fake/gpt")
    assert [(item["type"], item["call_id"], item["name"]) for item in response["output"]] == [
        ("function_call", "call_1", "weather"),
        ("function_call", "call_2", "time"),
    ]
    assert response["output"][0]["arguments"] == '{"city":"Paris"}'
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}


def test_a_refusal_and_an_answer_without_choices_still_make_a_message() -> None:
    refused = chat_to_response(
        chat_answer({"role": "assistant", "content": None, "refusal": "I can't."}), {"input": "x"}, "m"
    )
    assert refused["output"][0]["content"] == [
        {"type": "output_text", "text": "", "annotations": [], "logprobs": []},
        {"type": "refusal", "refusal": "I can't."},
    ]
    empty = chat_to_response({"choices": []}, {"input": "x"}, "m")
    assert empty["output"][0]["type"] == "message"
    assert empty["usage"] is None
    assert empty["id"].startswith("resp_")


# -- the stream ------------------------------------------------------------------------------


def sse(chunk: dict[str, Any] | str) -> bytes:
    data = chunk if isinstance(chunk, str) else orjson.dumps(chunk).decode()
    return f"data: {data}\n\n".encode()


def delta(content: dict[str, Any], finish_reason: str | None = None) -> bytes:
    choice = {"index": 0, "delta": content, "finish_reason": finish_reason}
    return sse({"id": "chatcmpl-s1", "created": 1_700_000_001, "choices": [choice]})


def responses_events(stream: ResponsesStream, chat_stream: list[bytes]) -> list[dict[str, Any]]:
    """Relay the chat stream's chunks through ``stream`` as the relay does (decoded into
    events first), then decode the Responses stream it sends."""
    upstream, client = SseDecoder(), SseDecoder()
    sent: list[bytes] = []
    for chunk in chat_stream:
        sent.extend(client.feed(stream.on_events(upstream.feed(chunk))))
    sent.extend(client.feed(stream.on_events(upstream.close()) + stream.on_end()))
    sent.extend(client.close())
    events = []
    for block in sent:
        kind, _, data = block.partition(b"\ndata: ")
        payload = orjson.loads(data)
        assert kind == b"event: " + payload["type"].encode()
        events.append(payload)
    return events


def test_a_text_stream_becomes_the_responses_event_sequence() -> None:
    stream = ResponsesStream({"input": "Hi"}, "fake/gpt")
    events = responses_events(
        stream,
        [
            delta({"role": "assistant", "content": ""}),
            delta({"content": "Hel"}),
            delta({"content": "lo"}),
            delta({}, finish_reason="stop"),
            sse({"id": "chatcmpl-s1", "choices": [], "usage": CHAT_USAGE}),
            sse("[DONE]"),
        ],
    )
    assert [event["type"] for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    assert [event["delta"] for event in events if event["type"].endswith(".delta")] == ["Hel", "lo"]
    assert events[6]["text"] == "Hello"
    completed = events[-1]["response"]
    assert (completed["id"], completed["status"], completed["created_at"]) == (
        "resp_s1",
        "completed",
        1_700_000_001,
    )
    assert completed["output"][0]["content"][0]["text"] == "Hello"
    assert completed["usage"] == RESPONSES_USAGE
    assert (stream.saw_done, stream.events, stream.usage) == (True, len(events), CHAT_USAGE)


def test_streamed_tool_calls_become_function_call_items_after_the_text() -> None:
    def call(index: int, **fields: Any) -> bytes:
        return delta({"tool_calls": [{"index": index, **fields}]})

    events = responses_events(
        ResponsesStream({"input": "x"}, "m"),
        [
            delta({"content": "Checking."}),
            call(0, id="call_a", function={"name": "weather", "arguments": '{"ci'}),
            call(0, function={"arguments": 'ty":"Paris"}'}),
            call(1, id="call_b", function={"name": "time", "arguments": "{}"}),
            delta({}, finish_reason="tool_calls"),
            sse("[DONE]"),
        ],
    )
    added = [event["item"] for event in events if event["type"] == "response.output_item.added"]
    assert [(item["type"], item.get("call_id")) for item in added] == [
        ("message", None),
        ("function_call", "call_a"),
        ("function_call", "call_b"),
    ]
    done = {
        event["item_id"]: event["arguments"] for event in events if event["type"].endswith("arguments.done")
    }
    assert done == {"fc_s1_0": '{"city":"Paris"}', "fc_s1_1": "{}"}
    # The message closes before the first call opens: output indexes follow the order of items.
    message_done = next(i for i, e in enumerate(events) if e["type"] == "response.output_item.done")
    first_call = next(i for i, e in enumerate(events) if e.get("item", {}).get("type") == "function_call")
    assert message_done < first_call
    output = events[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["message", "function_call", "function_call"]


def test_a_stream_cut_by_the_token_limit_ends_incomplete() -> None:
    events = responses_events(
        ResponsesStream({"input": "x"}, "m"), [delta({"content": "Once upon"}, finish_reason="length")]
    )
    assert events[-1]["type"] == "response.incomplete"  # no [DONE]: completed at the end of the body
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_an_upstream_error_event_is_relayed_as_a_responses_error() -> None:
    error = {"error": {"message": "overloaded", "code": "server_error", "param": None}}
    events = responses_events(ResponsesStream({"input": "x"}, "m"), [sse(error)])
    assert events == [
        {
            "type": "error",
            "sequence_number": 0,
            "code": "server_error",
            "message": "overloaded",
            "param": None,
        }
    ]


def test_comments_junk_and_an_empty_stream_emit_nothing() -> None:
    stream = ResponsesStream({"input": "x"}, "m")
    assert stream.on_events([b": keep-alive\n\n", b"data: {not json\n\n", b"data: [1, 2]\n\n"]) == b""
    assert stream.on_end() == b""
    assert stream.on_events([sse("[DONE]")]) == b""
