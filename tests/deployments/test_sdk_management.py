"""The hosted product's Python SDK (orq-ai-sdk) reads relaygate's deployment lists.

``Orq(api_key=..., server_url=<relaygate>)`` as an application team would point it:
``deployments.list`` and ``deployments.list_versions`` parse our answers into their
models (a field outside their shapes, a null where they allow none or a value outside
their closed enums would raise ``ResponseValidationError``), and our errors into theirs.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from orq_ai_sdk import Orq, models

from support.server import RelaygateServer, Workspace
from upstream import FakeUpstream

MODEL = "openai/gpt-test"  # a provider in the SDKs' enum, so it is shown as itself
RICH_MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You help with {{product}}."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "Look at this: {{question}}"},
            {"type": "image_url", "image_url": {"url": "https://example.com/{{image}}.png", "detail": "low"}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,AAAA", "filename": "a.pdf"}},
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "found"},
]
RICH_PARAMETERS: dict[str, Any] = {
    "temperature": 0.4,
    "max_tokens": 200,
    "top_p": 0.9,
    "frequency_penalty": 0.5,
    "presence_penalty": 0.1,
    "seed": 7,
    "stop": ["END"],
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True},
    },
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "description": "Find an order",
                "parameters": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}},
                    "required": ["id"],
                    "additionalProperties": False,
                },
                "strict": True,
            },
        },
        {"type": "function", "function": {"name": "ping"}},
    ],
    "tool_choice": "auto",
    "logit_bias": {"50256": -100},
}


@pytest.fixture(scope="module")
def team(relaygate: RelaygateServer, upstream: FakeUpstream) -> Workspace:
    workspace = relaygate.new_workspace()
    workspace.add_model(upstream, "gpt-test", provider="openai")
    workspace.add_model(upstream, "gpt-test", provider="spare")
    return workspace


def sdk(workspace: Workspace, key: str | None = None) -> Orq:
    return Orq(api_key=key or workspace.admin_key, server_url=workspace.server.url)


def create(workspace: Workspace, **fields: Any) -> dict[str, Any]:
    body = {"key": f"sdk-{uuid.uuid4().hex[:8]}", "model": MODEL, "messages": RICH_MESSAGES, **fields}
    response = workspace.api("POST", "/v2/deployments", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_list_parses_a_deployment_with_every_kind_of_message_and_parameter(team: Workspace) -> None:
    created = create(
        team,
        description="orders",
        parameters=RICH_PARAMETERS,
        variants=[{"name": "de", "context": {"locale": ["de", "at"]}, "model": "spare/gpt-test"}],
        fallbacks=[{"model": "spare/gpt-test"}],
    )
    listed = sdk(team).deployments.list(limit=1)
    assert listed.object == "list"
    (item,) = listed.data
    assert (item.id, item.key, item.description, item.version) == (
        created["id"],
        created["key"],
        "orders",
        "v1",
    )
    config = item.prompt_config
    assert (config.model, config.model_type, config.provider) == (MODEL, "chat", "openai")
    parameters = config.model_parameters
    assert (parameters.temperature, parameters.max_tokens, parameters.top_p) == (0.4, 200, 0.9)
    assert (parameters.frequency_penalty, parameters.presence_penalty, parameters.seed) == (0.5, 0.1, 7)
    assert parameters.response_format is not None
    assert [tool.function.name for tool in config.tools] == ["lookup", "ping"]
    assert config.tools[0].function.parameters.required == ["id"]
    assert [message.role for message in config.messages] == ["system", "user", "assistant", "tool"]
    assert config.messages[1].content is not None


def test_list_pages_with_the_sdk_cursors(relaygate: RelaygateServer, upstream: FakeUpstream) -> None:
    workspace = relaygate.new_workspace()
    workspace.add_model(upstream, "gpt-test", provider="openai")
    keys = [create(workspace)["key"] for _ in range(3)]
    client = sdk(workspace)
    first = client.deployments.list(limit=2)
    assert [item.key for item in first.data] == keys[:0:-1]
    assert first.has_more is True
    rest = client.deployments.list(limit=2, starting_after=first.data[-1].id)
    assert ([item.key for item in rest.data], rest.has_more) == ([keys[0]], False)
    back = client.deployments.list(limit=2, ending_before=rest.data[0].id)
    assert [item.key for item in back.data] == keys[:0:-1]


def test_list_versions_parses_every_version_of_a_deployment(team: Workspace) -> None:
    created = create(team, parameters=RICH_PARAMETERS, fallbacks=[{"model": "spare/gpt-test"}])
    key = created["key"]
    team.api("PATCH", f"/v2/deployments/{key}", json={"parameters": {"temperature": 1.0}})
    team.api("POST", f"/v2/deployments/{key}/rollback", json={"version": 1})
    client = sdk(team)
    versions = client.deployments.list_versions(key_or_id=key)
    assert versions.object == "list"
    assert [(item.version, item.status) for item in versions.data] == [
        ("v3", "live"), ("v2", "published"), ("v1", "published"),
    ]  # fmt: skip
    newest = versions.data[0]
    assert newest.deployment_id == created["id"]
    assert newest.variant_id == "default"
    assert newest.notes == "rollback to version 1"
    assert newest.prompt_config.model_parameters.max_tokens == 200
    assert [fallback.model for fallback in newest.fallbacks] == ["spare/gpt-test"]
    assert [variable.key for variable in newest.variables] == ["product", "question", "image"]
    assert [tool.function.name for tool in newest.tools] == ["lookup", "ping"]

    page = client.deployments.list_versions(key_or_id=created["id"], limit=1, starting_after=newest.id)
    assert ([item.version for item in page.data], page.has_more) == (["v2"], True)


def test_a_router_key_lists_through_the_sdk(team: Workspace) -> None:
    created = create(team)
    router_key = team.new_key("router")
    (item,) = sdk(team, router_key).deployments.list(limit=1).data
    assert item.key == created["key"]


def test_a_wrong_key_is_the_sdks_error_response(team: Workspace) -> None:
    with pytest.raises(models.ErrorResponse) as raised:
        sdk(team, "rg-not-a-key").deployments.list()
    assert raised.value.data.message
    assert raised.value.raw_response.status_code == 401


def test_an_unknown_deployment_is_the_sdks_generic_error(team: Workspace) -> None:
    with pytest.raises(models.APIDefaultError) as raised:
        sdk(team).deployments.list_versions(key_or_id="no-such-deployment")
    assert raised.value.status_code == 404
    assert "no-such-deployment" in raised.value.body
