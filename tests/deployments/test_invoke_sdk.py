"""/v2/deployments/invoke, /stream and /get_config through the hosted product's Python SDK
(orq-ai-sdk), against a real relaygate and fake upstreams that record what they received:
rendering, variants, parameters, the answer shapes, and the 400s and 404s."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from orq_ai_sdk import models

from support.deployment_calls import INPUTS, create_deployment, orq, post, received, said, sdk_error
from support.server import RelaygateServer, Workspace
from upstream import FakeUpstream
from upstream.faults import Fault

ULID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
CREATED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEX32, HEX16 = re.compile(r"^[0-9a-f]{32}$"), re.compile(r"^[0-9a-f]{16}$")
# Keys the Node SDK refuses as null: an answer leaves them out instead.
NEVER_NULL = ("integration_id", "finalized", "retrievals")
LANGUAGE_FILTER: Any = {"lang": {"eq": "en"}}
FOLLOW_UP: Any = [{"role": "user", "content": "And a version?"}]


@dataclass
class Team:
    workspace: Workspace
    primary: FakeUpstream  # answers "from primary"; its model is "fake/gpt-test"
    other: FakeUpstream  # answers "from other"; its model is "openai/gpt-test"
    model: str
    other_model: str


@pytest.fixture(scope="module")
def team(relaygate: RelaygateServer) -> Iterator[Team]:
    with FakeUpstream(reply="from primary") as primary, FakeUpstream(reply="from other") as other:
        workspace = relaygate.new_workspace()
        model = workspace.add_model(primary, "gpt-test", supports_tool_calling=True)["router_id"]
        other_model = workspace.add_model(other, "gpt-test", provider="openai")["router_id"]
        yield Team(workspace, primary, other, model, other_model)


@pytest.fixture
def fresh(team: Team) -> Team:
    team.primary.reset()
    team.other.reset()
    return team


def test_invoke_sends_the_rendered_template_the_variants_parameters_and_model(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model, parameters={"temperature": 0.2, "max_tokens": 64})

    answer = orq(fresh.workspace).deployments.invoke(
        key=key,
        inputs=INPUTS,
        messages=FOLLOW_UP,
        extra_params={"temperature": 0.7, "top_p": 0.5},
        invoke_options={"include_usage": True},
    )

    sent = received(fresh.primary)
    assert sent["model"] == "gpt-test"
    assert sent["messages"] == [
        {"role": "system", "content": "You answer questions about relaygate."},
        {"role": "user", "content": "What is a deployment?"},
        {"role": "user", "content": "And a version?"},
    ]
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"]) == (0.7, 0.5, 64)
    assert "stream" not in sent or sent["stream"] is False
    assert answer is not None
    assert said(answer.choices[0]) == "from primary"
    assert answer.choices[0].finish_reason == "stop"
    assert (answer.model, answer.provider, answer.object, answer.is_final) == (
        fresh.model,
        "openailike",
        "chat",
        True,
    )
    assert ULID.match(answer.id)
    assert HEX32.match(answer.telemetry.trace_id)
    assert HEX16.match(answer.telemetry.span_id)
    assert answer.usage is not None
    usage: Any = answer.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_the_raw_answer_is_json_with_relaygates_extras_and_no_nulls_node_refuses(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)

    response = post(fresh.workspace, "invoke", {"key": key, "inputs": INPUTS, "stream": True})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"  # invoke never streams
    assert response.headers["x-relaygate-deployment-version"] == "1"
    assert response.headers["x-relaygate-variant"] == "default"
    body = response.json()
    assert CREATED.match(body["created"])
    assert body["deployment"] == {"key": key, "version": 1, "variant": "default"}
    assert body["system_fingerprint"] == "fp_fake_upstream"
    assert "usage" not in body  # only when invoke_options.include_usage
    assert not any(name in body for name in NEVER_NULL)
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"type": "content", "role": "assistant", "content": "from primary"},
            "finish_reason": "stop",
        }
    ]


def test_context_picks_the_most_specific_variant_and_the_default_when_none_matches(fresh: Team) -> None:
    eu = [{"role": "system", "content": "EU rules apply."}, {"role": "user", "content": "{{question}}"}]
    key = create_deployment(
        fresh.workspace,
        fresh.model,
        parameters={"temperature": 0.2},
        variants=[
            {"name": "production", "context": {"environments": "production"}, "model": fresh.other_model},
            {
                "name": "production-eu",
                "context": {"environments": "production", "region": ["eu", "ch"]},
                "messages": eu,
                "parameters": {"temperature": 0.9},
            },
        ],
    )
    client = orq(fresh.workspace)

    client.deployments.invoke(key=key, inputs=INPUTS, context={"environments": "production", "region": "ch"})
    assert received(fresh.primary)["messages"][0] == {"role": "system", "content": "EU rules apply."}
    assert received(fresh.primary)["temperature"] == 0.9

    answer = client.deployments.invoke(key=key, inputs=INPUTS, context={"environments": "production"})
    assert answer is not None
    assert answer.model == fresh.other_model
    assert answer.provider == "openai"
    assert received(fresh.other)["temperature"] == 0.2

    response = post(
        fresh.workspace, "invoke", {"key": key, "inputs": INPUTS, "context": {"environments": "dev"}}
    )
    assert response.headers["x-relaygate-variant"] == "default"
    assert response.json()["model"] == fresh.model


def test_stream_yields_invoke_chunks_then_a_final_one_with_the_finish_reason_and_usage(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)

    events = list(
        orq(fresh.workspace).deployments.stream(
            key=key, inputs=INPUTS, invoke_options={"include_usage": True}
        )
    )

    chunks = [event.data for event in events]
    assert all(chunk is not None for chunk in chunks)
    *deltas, final = [chunk for chunk in chunks if chunk is not None]
    assert "".join(said(chunk.choices[0]) for chunk in deltas) == "from primary"
    assert not any(chunk.is_final for chunk in deltas)
    assert final.is_final
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None
    assert len({chunk.id for chunk in chunks if chunk is not None}) == 1
    assert received(fresh.primary)["stream"] is True


def test_stream_answers_events_whatever_the_body_says(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)

    response = post(fresh.workspace, "stream", {"key": key, "inputs": INPUTS, "stream": False})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.endswith("data: [DONE]\n\n")
    assert "usage" not in response.text.split("data: ")[-2]  # not asked for


def test_get_config_answers_the_rendered_request_without_calling_a_model(fresh: Team) -> None:
    tools: Any = [
        {
            "type": "function",
            "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    key = create_deployment(
        fresh.workspace, fresh.model, parameters={"max_tokens": 32, "top_p": 0.4, "tools": tools}
    )
    prefix: Any = [{"role": "user", "content": "Earlier question"}]

    config = orq(fresh.workspace).deployments.get_config(key=key, inputs=INPUTS, prefix_messages=prefix)
    raw = post(fresh.workspace, "get_config", {"key": key, "inputs": INPUTS}).json()

    assert fresh.primary.requests_to("/chat/completions") == []
    assert config is not None
    assert (config.model, config.version, config.type) == (fresh.model, "v1", "chat")
    assert [(message.role, message.content) for message in config.messages] == [
        ("system", "You answer questions about relaygate."),
        ("user", "Earlier question"),
        ("user", "What is a deployment?"),
    ]
    assert raw["parameters"] == {"maxTokens": 32, "topP": 0.4}
    assert raw["tools"] == [
        {"type": "function", "function": {"name": "lookup", "parameters": tools[0]["function"]["parameters"]}}
    ]
    assert raw["deployment"] == {"key": key, "version": 1, "variant": "default"}


def test_prefix_messages_go_after_the_templates_leading_system_messages(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)
    prefix: Any = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    last: Any = [{"role": "user", "content": "Last"}]

    orq(fresh.workspace).deployments.invoke(key=key, inputs=INPUTS, prefix_messages=prefix, messages=last)

    roles_and_text = [
        (message["role"], message["content"]) for message in received(fresh.primary)["messages"]
    ]
    assert roles_and_text == [
        ("system", "You answer questions about relaygate."),
        ("user", "Hi"),
        ("assistant", "Hello!"),
        ("user", "What is a deployment?"),
        ("user", "Last"),
    ]


def test_a_variable_inputs_lack_is_a_400_naming_it(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)

    with pytest.raises(models.APIDefaultError) as refused:
        orq(fresh.workspace).deployments.invoke(key=key, inputs={"product": "relaygate"})
    response = post(fresh.workspace, "stream", {"key": key, "inputs": {}})

    assert refused.value.status_code == 400
    assert "'question'" in refused.value.body
    error = sdk_error(response, 400, "inputs")
    assert error["code"] == "missing_variables"
    assert "'product', 'question'" in error["message"]
    assert fresh.primary.requests_to("/chat/completions") == []


def test_an_input_holding_a_placeholder_is_sent_as_text(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)

    orq(fresh.workspace).deployments.invoke(
        key=key, inputs={"product": "{{question}}", "question": "{{ product }}"}
    )

    sent = received(fresh.primary)["messages"]
    assert sent[0]["content"] == "You answer questions about {{question}}."
    assert sent[1]["content"] == "{{ product }}"


@pytest.mark.parametrize("action", ["invoke", "stream", "get_config"])
def test_an_unknown_key_and_another_workspaces_deployment_are_404(
    fresh: Team, relaygate: RelaygateServer, upstream: FakeUpstream, action: str
) -> None:
    stranger = relaygate.new_workspace()
    theirs = create_deployment(stranger, stranger.add_model(upstream, "gpt-test")["router_id"])

    for key in (theirs, "no-such-deployment"):
        response = post(fresh.workspace, action, {"key": key, "inputs": INPUTS})
        error = sdk_error(response, 404, "key")
        assert error["code"] == "deployment_not_found"
        assert key in error["message"]


def test_a_bad_key_is_the_401_the_python_sdk_reads_as_its_error_response(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)

    with pytest.raises(models.ErrorResponse) as refused:
        orq(fresh.workspace, "rg-not-a-key").deployments.invoke(key=key, inputs=INPUTS)

    assert refused.value.data.message


def test_an_upstream_error_is_relayed_with_the_message_the_python_sdk_reads(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)
    fresh.primary.script("/chat/completions", [Fault(status=401)])

    with pytest.raises(models.ErrorResponse) as refused:
        orq(fresh.workspace).deployments.invoke(key=key, inputs=INPUTS)

    assert refused.value.data.message == "Incorrect API key provided."


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"knowledge_filter": {"lang": {"eq": "en"}}}, "knowledge_filter"),
        ({"file_ids": ["file-1"]}, "file_ids"),
        ({"invoke_options": {"include_retrievals": True}}, "invoke_options.include_retrievals"),
    ],
)
def test_fields_for_features_relaygate_lacks_are_400s_naming_them(
    fresh: Team, fields: dict[str, Any], param: str
) -> None:
    key = create_deployment(fresh.workspace, fresh.model)

    response = post(fresh.workspace, "invoke", {"key": key, "inputs": INPUTS, **fields})

    assert sdk_error(response, 400, param)["code"] == "unsupported_feature"


def test_the_sdk_sends_knowledge_filter_and_gets_the_400(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)

    with pytest.raises(models.APIDefaultError) as refused:
        orq(fresh.workspace).deployments.invoke(key=key, inputs=INPUTS, knowledge_filter=LANGUAGE_FILTER)

    assert refused.value.status_code == 400
    assert "knowledge_filter" in refused.value.body


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"key": 42}, "key"),
        ({"inputs": ["x"]}, "inputs"),
        ({"context": "production"}, "context"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"prefix_messages": [{"role": "user", "content": 3}]}, "prefix_messages[0].content"),
        ({"extra_params": {"model": "other"}}, "extra_params.model"),
        ({"documents": [{"text": 1}]}, "documents[0].text"),
        ({"identity": {"id": ""}}, "identity.id"),
        ({"identity": {"id": "u1", "tags": "vip"}}, "identity.tags"),
        ({"metadata": {"ticket": {"nested": 1}}}, "metadata.ticket"),
        ({"thread": {"tags": []}}, "thread.id"),
        ({"invoke_options": {"include_usage": "yes"}}, "invoke_options.include_usage"),
    ],
)
def test_each_fields_type_is_checked_with_a_400_naming_it(
    fresh: Team, fields: dict[str, Any], param: str
) -> None:
    key = create_deployment(fresh.workspace, fresh.model)

    response = post(fresh.workspace, "invoke", {"key": key, "inputs": INPUTS, **fields})

    sdk_error(response, 400, param)


def test_a_mock_response_answers_without_calling_a_model(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)
    client = orq(fresh.workspace)

    answer = client.deployments.invoke(key=key, inputs=INPUTS, invoke_options={"mock_response": "Mocked."})
    chunks = [
        event.data
        for event in client.deployments.stream(
            key=key, inputs=INPUTS, invoke_options={"mock_response": "Mocked."}
        )
    ]

    assert answer is not None
    assert said(answer.choices[0]) == "Mocked."
    assert [said(chunk.choices[0]) for chunk in chunks if chunk is not None] == ["Mocked.", ""]
    assert fresh.primary.requests_to("/chat/completions") == []


def test_any_key_of_the_workspace_may_invoke(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)

    answer = orq(fresh.workspace, fresh.workspace.new_key("router")).deployments.invoke(
        key=key, inputs=INPUTS
    )

    assert answer is not None
    assert said(answer.choices[0]) == "from primary"


def test_the_telemetry_trace_id_is_the_clients_traceparent(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, fresh.model)
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"

    response = post(
        fresh.workspace,
        "invoke",
        {"key": key, "inputs": INPUTS},
        headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"},
    )

    telemetry = response.json()["telemetry"]
    assert telemetry["trace_id"] == trace
    assert telemetry["span_id"] != "00f067aa0ba902b7"


def test_a_tool_call_answer_has_the_tool_calls_message_type(fresh: Team) -> None:
    tools: Any = [
        {
            "type": "function",
            "function": {"name": "lookup_order", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    key = create_deployment(
        fresh.workspace, fresh.model, parameters={"tools": tools, "tool_choice": "required"}
    )

    answer = orq(fresh.workspace).deployments.invoke(key=key, inputs=INPUTS)

    assert answer is not None
    message = answer.choices[0].message
    assert message.type == "tool_calls"
    assert message.tool_calls[0].function.name == "lookup_order"
    assert received(fresh.primary)["tool_choice"] == "required"
