"""In-process tests of datapoint checking: the chat-message union the Node SDK reads back,
and the datapoint fields around it."""

from __future__ import annotations

from typing import Any

import pytest

from relaygate.datasets.datapoints import check_datapoint, check_datapoints, check_fields
from relaygate.datasets.messages import MAX_MESSAGES, check_messages
from relaygate.datasets.problems import InvalidDatapoint

VALID_MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "Be brief.", "name": "policy"},
    {"role": "developer", "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}]},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "a.pdf"}},
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "refusal": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    },
    {"role": "tool", "content": "42", "tool_call_id": "call_1"},
    {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}, {"type": "text", "text": "ok"}]},
    {"role": "user", "content": "hi", "extra_key_the_sdk_ignores": 1},
]


def test_every_role_and_part_the_sdk_reads_is_accepted() -> None:
    assert check_messages(VALID_MESSAGES) == VALID_MESSAGES


def _user(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": list(parts)}


PART = "messages[0].content[0]"


@pytest.mark.parametrize(
    ("message", "param", "says"),
    [
        ({"role": "user"}, "messages[0].content", "got null"),
        ({"role": "robot", "content": "x"}, "messages[0].role", "must be one of system"),
        (
            {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "u"}}]},
            f"{PART}.type",
            "text",
        ),
        ({"role": "tool", "content": "x"}, "messages[0].tool_call_id", "is required"),
        (
            _user({"type": "image_url", "image_url": {"url": "u", "detail": "max"}}),
            f"{PART}.image_url.detail",
            "low, high, auto",
        ),
        (
            _user({"type": "input_audio", "input_audio": {"data": "x", "format": "ogg"}}),
            f"{PART}.input_audio.format",
            "mp3, wav",
        ),
        (
            {"role": "assistant", "tool_calls": [{"id": "c", "type": "custom", "function": {}}]},
            "messages[0].tool_calls[0].type",
            "function",
        ),
        ({"role": "assistant", "content": 3}, "messages[0].content", "got a number"),
        (
            _user({"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "2h"}}),
            f"{PART}.cache_control.ttl",
            "5m, 1h",
        ),
        ("hello", "messages[0]", "must be an object"),
    ],
)
def test_a_message_the_node_sdk_would_reject_is_a_400_naming_the_field(
    message: Any, param: str, says: str
) -> None:
    with pytest.raises(InvalidDatapoint) as refused:
        check_messages([message])
    assert refused.value.param == param
    assert says in refused.value.message


def test_messages_are_a_bounded_list() -> None:
    with pytest.raises(InvalidDatapoint, match="must be a list"):
        check_messages({"role": "user"})
    with pytest.raises(InvalidDatapoint, match=f"at most {MAX_MESSAGES}"):
        check_messages([{"role": "user", "content": "x"}] * (MAX_MESSAGES + 1))


def test_a_datapoint_keeps_only_the_fields_with_a_value() -> None:
    assert check_datapoint({"inputs": {"q": "hi"}, "expected_output": "x", "messages": None}) == {
        "inputs": {"q": "hi"},
        "expected_output": "x",
    }


def test_read_only_fields_of_an_exported_datapoint_are_dropped_and_others_refused() -> None:
    exported = {"_id": "01J", "dataset_id": "d", "created": "2026-01-01T00:00:00Z", "expected_output": "x"}
    assert check_datapoint(exported) == {"expected_output": "x"}
    with pytest.raises(InvalidDatapoint) as refused:
        check_datapoint({"expected": "x"})
    assert refused.value.param == "expected"
    assert "inputs, messages, expected_output" in refused.value.message


def test_an_update_keeps_an_explicit_null_as_removal() -> None:
    assert check_fields({"expected_output": None, "inputs": {"a": 1}}, "", partial=True) == {
        "expected_output": None,
        "inputs": {"a": 1},
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ([{"inputs": "q"}], "[0].inputs"),
        ([{"inputs": {"": "x"}}], "[0].inputs"),
        ([{}, {"expected_output": 3}], "[1].expected_output"),
        ({"items": []}, "body"),
    ],
)
def test_a_list_of_datapoints_names_the_wrong_one_by_index(body: Any, param: str) -> None:
    with pytest.raises(InvalidDatapoint) as refused:
        check_datapoints(body, "", 10)
    assert refused.value.param == param


def test_a_list_of_datapoints_is_bounded() -> None:
    with pytest.raises(InvalidDatapoint, match="at most 2 are created at once"):
        check_datapoints([{}, {}, {}], "items", 2)
