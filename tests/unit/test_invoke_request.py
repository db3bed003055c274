"""``deployments.invoke_request.read_invoke``: the SDK's invoke body, every field checked."""

from __future__ import annotations

from typing import Any

import pytest

from relaygate.deployments.invoke_request import read_invoke
from relaygate.errors import InvalidRequest


def test_only_the_key_is_required_and_the_rest_has_empty_defaults() -> None:
    request = read_invoke({"key": "support", "stream": False, "unknown_field": 1})
    assert request.key == "support"
    assert (dict(request.inputs), dict(request.context), dict(request.extra_params)) == ({}, {}, {})
    assert (request.messages, request.prefix_messages, request.documents) == ((), (), None)
    assert (request.include_usage, request.mock_response, dict(request.attribution)) == (False, None, {})


def test_a_full_body_is_read_as_sent() -> None:
    request = read_invoke(
        {
            "key": "support",
            "inputs": {"question": "Why?"},
            "context": {"environments": "production"},
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
            "prefix_messages": [{"role": "assistant", "content": None, "tool_calls": []}],
            "extra_params": {"temperature": 0.5},
            "documents": [{"text": "A chunk.", "metadata": {"file_name": "a.pdf"}}],
            "invoke_options": {"include_usage": True, "include_retrievals": False, "mock_response": "Hi"},
            "metadata": {"ticket": "T-1"},
            "thread": {"id": "t-1"},
            "file_ids": [],
        }
    )
    assert request.inputs == {"question": "Why?"}
    assert request.messages[0]["content"][0]["text"] == "Hi"
    assert request.prefix_messages[0]["role"] == "assistant"
    assert request.documents == ({"text": "A chunk.", "metadata": {"file_name": "a.pdf"}},)
    assert (request.include_usage, request.mock_response) == (True, "Hi")
    assert request.attribution == {"metadata": {"ticket": "T-1"}, "thread": {"id": "t-1"}}


def test_the_sdks_identity_is_read_into_the_attributions_shape() -> None:
    identity = {
        "id": "user-42",
        "email": "jane@example.com",
        "metadata": [{"plan": "pro"}, {"region": "eu", "plan": "team"}],
        "logo_url": "https://example.com/logo.png",
        "tags": ["vip"],
    }
    request = read_invoke({"key": "support", "identity": identity})
    assert request.attribution["identity"] == {
        "id": "user-42",
        "email": "jane@example.com",
        "metadata": {"plan": "team", "region": "eu"},
    }


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({}, "key", None),
        ({"key": ""}, "key", None),
        ({"key": "k" * 129}, "key", None),
        ({"key": "k", "inputs": "x"}, "inputs", "invalid_deployment"),
        ({"key": "k", "context": []}, "context", "invalid_deployment"),
        ({"key": "k", "messages": {}}, "messages", "invalid_deployment"),
        ({"key": "k", "messages": ["hi"]}, "messages[0]", "invalid_deployment"),
        ({"key": "k", "messages": [{"role": "user", "content": None}]}, "messages[0].content", None),
        ({"key": "k", "prefix_messages": [{"content": "x"}]}, "prefix_messages[0].role", None),
        ({"key": "k", "extra_params": {"messages": []}}, "extra_params.messages", None),
        ({"key": "k", "extra_params": {"stream": True}}, "extra_params.stream", None),
        ({"key": "k", "documents": {}}, "documents", "invalid_deployment"),
        (
            {"key": "k", "documents": [{"text": "x", "metadata": "y"}]},
            "documents[0].metadata",
            "invalid_deployment",
        ),
        ({"key": "k", "identity": {"id": "u", "logo_url": 3}}, "identity.logo_url", None),
        (
            {"key": "k", "identity": {"id": "u", "metadata": ["x"]}},
            "identity.metadata[0]",
            "invalid_deployment",
        ),
        ({"key": "k", "invoke_options": []}, "invoke_options", "invalid_deployment"),
        ({"key": "k", "invoke_options": {"include_usage": 1}}, "invoke_options.include_usage", None),
        (
            {"key": "k", "invoke_options": {"mock_response": 1}},
            "invoke_options.mock_response",
            "invalid_deployment",
        ),
        ({"key": "k", "knowledge_filter": {"or": []}}, "knowledge_filter", "unsupported_feature"),
        ({"key": "k", "file_ids": ["f"]}, "file_ids", "unsupported_feature"),
        (
            {"key": "k", "invoke_options": {"include_retrievals": True}},
            "invoke_options.include_retrievals",
            "unsupported_feature",
        ),
    ],
)
def test_each_wrong_field_is_a_400_naming_it(body: dict[str, Any], param: str, code: str | None) -> None:
    with pytest.raises(InvalidRequest) as refused:
        read_invoke(body)
    assert refused.value.param == param
    assert refused.value.code == code
    assert param.split("[")[0].split(".")[0] in refused.value.message
