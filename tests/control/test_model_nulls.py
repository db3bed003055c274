"""/v2/models answers: an optional field without a value is omitted, never null.

The hosted product's Node SDK (``@orq-ai/node``) rejects ``null`` in a field it declares
``.optional()``; the only fields where it accepts ``null`` are the ``z.nullable(...)`` ones
of ``models/operations/modelcreateopenailike`` listed in ``NODE_NULLABLE`` below.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from support.nulls import null_paths
from support.server import RelaygateServer, Workspace
from upstream import FakeUpstream

# Paths (list items as "[]") where the Node SDK's model object accepts null.
NODE_NULLABLE = {
    "description", "docs_url", "input_cost", "output_cost", "parameters", "pricing_url",
    "parameters[].description",
}  # fmt: skip


def assert_node_shaped(model: dict[str, Any]) -> None:
    unexpected = sorted(set(null_paths(model)) - NODE_NULLABLE)
    assert unexpected == [], f"null where the Node SDK only allows the field to be absent: {unexpected}"
    assert model["configuration"]["provider"]
    assert model["metadata"]["is_private"] is True


def minimal_body(upstream: FakeUpstream, provider: str) -> dict[str, Any]:
    """Only the required fields: every optional value relaygate shows is absent."""
    return {
        "api_key": upstream.api_key or "unused",
        "base_url": upstream.url,
        "display_name": "Minimal",
        "model_id": "gpt-test",
        "model_type": "chat",
        "region": "us",
        "provider": provider,
    }


def test_null_paths_finds_nested_nulls() -> None:
    found = set(null_paths({"a": None, "b": {"c": None, "d": 1}, "e": [{"f": None}, {"f": 2}]}))
    assert found == {"a", "b.c", "e[].f"}


def test_create_list_get_patch_validate_delete_send_no_optional_null(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    response = workspace.api("POST", "/v2/models/openai-like", json=minimal_body(upstream, "nulls"))
    assert response.status_code == 200, response.text
    created = response.json()
    assert_node_shaped(created)
    for absent in ("model_developer", "model_family"):
        assert absent not in created
    assert "api_key_env" not in created["configuration"]
    assert "max_tokens" not in created["metadata"]
    assert created["description"] is None  # nullable in the SDK: present, null
    assert created["input_cost"] is None

    model_id = created["id"]
    listed = workspace.api("GET", "/v2/models").json()
    assert [model["id"] for model in listed["data"]] == [model_id]
    assert_node_shaped(listed["data"][0])
    got = workspace.api("GET", f"/v2/models/{model_id}").json()
    assert_node_shaped(got)
    assert got["metadata"]["circuit_breaker"]["state"] == "closed"
    assert "retry_in_s" not in got["metadata"]["circuit_breaker"]

    patch = {"display_name": "Renamed", "model_type": "chat", "region": "eu"}
    assert_node_shaped(workspace.api("PATCH", f"/v2/models/openai-like/{model_id}", json=patch).json())
    assert_node_shaped(workspace.api("POST", f"/v2/models/{model_id}/validate").json())
    deleted = workspace.api("DELETE", f"/v2/models/{model_id}").json()
    assert deleted == {"id": model_id, "object": "model", "deleted": True}


def test_the_streamed_model_event_sends_no_optional_null(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    with httpx.stream(
        "POST",
        f"{workspace.server.url}/v2/models/openai-like",
        json=minimal_body(upstream, "nulls-sse"),
        headers={"authorization": f"Bearer {workspace.admin_key}", "accept": "text/event-stream"},
        timeout=30,
    ) as response:
        text = response.read().decode()
    model_event = text.strip().split("\n\n")[-1]
    assert model_event.startswith("event: model\ndata: ")
    assert_node_shaped(json.loads(model_event.split("data: ", 1)[1]))


def test_configuration_of_the_wrong_type_is_not_shown(workspace: Workspace, upstream: FakeUpstream) -> None:
    body = {**minimal_body(upstream, "config"), "configuration": {"location": "eu-west", "api_version": 5}}
    response = workspace.api("POST", "/v2/models/openai-like", json=body)
    assert response.status_code == 200, response.text
    configuration = response.json()["configuration"]
    assert configuration["location"] == "eu-west"
    assert "api_version" not in configuration  # the SDK's schema says string


def test_openapi_marks_optional_fields_absent_not_null(relaygate: RelaygateServer) -> None:
    schemas = relaygate.api("GET", "/openapi.json").json()["components"]["schemas"]
    model = schemas["ModelObject"]
    assert "description" in model["required"]
    assert {"type": "null"} in model["properties"]["description"]["anyOf"]
    configuration = schemas["ModelConfiguration"]
    assert "api_key_env" not in configuration.get("required", [])
    assert configuration["properties"]["api_key_env"] == {"type": "string", "title": "Api Key Env"}
    assert "null" not in str(schemas["ModelMetadata"]["properties"]["max_tokens"])
