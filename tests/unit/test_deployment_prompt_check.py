"""In-process tests of a deployment prompt's checks: well-formed messages and parameters pass
unchanged, and each malformed piece is refused by its path."""

from __future__ import annotations

from typing import Any

import pytest

from relaygate.deployments.prompt_check import check_messages, check_parameters
from relaygate.errors import InvalidRequest

WELL_FORMED: list[dict[str, Any]] = [
    {"role": "system", "content": "Be brief about {{topic}}.", "name": "rules"},
    {"role": "developer", "content": [{"type": "text", "text": "x"}]},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "{{q}}"},
            {"type": "image_url", "image_url": {"url": "https://x/{{img}}", "detail": "high"}},
            {"type": "file", "file": {"uri": "https://x/a.pdf", "mimeType": "application/pdf"}},
            {"type": "file", "file": {"file_id": "file-1", "filename": "a.pdf"}},
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": ""}}],
    },
    {"role": "assistant", "content": "text and calls", "tool_calls": []},
    {"role": "tool", "tool_call_id": "c1", "content": "done"},
]


def refused_messages(messages: Any) -> str | None:
    with pytest.raises(InvalidRequest) as raised:
        check_messages(messages, "messages")
    return raised.value.param


def refused_parameters(parameters: Any) -> str | None:
    with pytest.raises(InvalidRequest) as raised:
        check_parameters(parameters, "parameters")
    return raised.value.param


def test_well_formed_messages_pass_unchanged() -> None:
    assert check_messages(WELL_FORMED, "messages") is WELL_FORMED
    assert check_messages([], "messages") == []


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ("hello", "messages[0]"),
        ({"content": "x"}, "messages[0].role"),
        ({"role": "user", "content": "x", "tool_calls": []}, "messages[0].tool_calls"),
        ({"role": "user", "content": []}, "messages[0].content"),
        ({"role": "user", "content": ["x"]}, "messages[0].content[0]"),
        ({"role": "user", "content": [{"type": "text"}]}, "messages[0].content[0].text"),
        (
            {"role": "user", "content": [{"type": "text", "text": "x", "cache": 1}]},
            "messages[0].content[0].cache",
        ),
        (
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": ""}}]},
            "messages[0].content[0].image_url.url",
        ),
        (
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "u", "detail": "max"}}]},
            "messages[0].content[0].image_url.detail",
        ),
        (
            {"role": "user", "content": [{"type": "file", "file": {"filename": "a"}}]},
            "messages[0].content[0].file",
        ),
        (
            {"role": "user", "content": [{"type": "file", "file": {"uri": 3}}]},
            "messages[0].content[0].file.uri",
        ),
        ({"role": "user", "content": "x", "name": ""}, "messages[0].name"),
        ({"role": "assistant", "tool_calls": [{"type": "custom"}]}, "messages[0].tool_calls[0].type"),
        (
            {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f"}}]},
            "messages[0].tool_calls[0].function.arguments",
        ),
        ({"role": "tool", "content": "x", "tool_call_id": ""}, "messages[0].tool_call_id"),
    ],
)
def test_a_malformed_message_is_refused_by_its_path(message: Any, param: str) -> None:
    assert refused_messages([message]) == param


def test_known_parameters_are_checked_and_others_pass_as_they_are() -> None:
    parameters = {
        "temperature": 2,
        "top_p": 0,
        "max_tokens": 1,
        "seed": -5,
        "stop": "END",
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {}}},
        "tools": [{"type": "web_search"}, {"type": "function", "function": {"name": "f", "strict": True}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "logprobs": True,
        "vendor_option": {"anything": [1, 2]},
    }
    assert check_parameters(parameters, "parameters") is parameters


@pytest.mark.parametrize(
    ("parameters", "param"),
    [
        ([], "parameters"),
        ({"temperature": True}, "parameters.temperature"),
        ({"temperature": float("nan")}, "parameters.temperature"),
        ({"max_tokens": 0}, "parameters.max_tokens"),
        ({"max_tokens": 1.5}, "parameters.max_tokens"),
        ({"presence_penalty": -3}, "parameters.presence_penalty"),
        ({"stop": [1]}, "parameters.stop[0]"),
        ({"response_format": {"type": "yaml"}}, "parameters.response_format.type"),
        ({"response_format": {"type": "json_schema"}}, "parameters.response_format.json_schema"),
        ({"tools": [{"function": {}}]}, "parameters.tools[0].type"),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]},
            "parameters.tools[0].function.parameters",
        ),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "strict": "yes"}}]},
            "parameters.tools[0].function.strict",
        ),
        ({"tool_choice": "always"}, "parameters.tool_choice"),
        ({"stream": True}, "parameters.stream"),
        ({"messages": []}, "parameters.messages"),
        ({"load_balancer": {}}, "parameters.load_balancer"),
    ],
)
def test_a_wrong_parameter_is_refused_by_its_path(parameters: Any, param: str) -> None:
    assert refused_parameters(parameters) == param
