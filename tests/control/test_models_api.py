"""POST/GET/PATCH/DELETE /v2/models: probe before store, the seed's response object."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support.server import Workspace
from tests_shared import assert_openai_error
from upstream import FakeUpstream

# Every required top-level field of the response object in seeds/003_8756caa06743f8db.txt (the
# optional ones relaygate has no value for, like model_developer, are omitted: never null).
SEED_FIELDS = {
    "configuration", "created", "description", "display_name", "docs_url", "enabled", "enabled_for_endpoints",
    "enabled_for_playground", "has_cpu_pricing", "has_functions", "id", "input_cost", "input_currency",
    "is_active", "metadata", "model_id", "model_type", "output_cost", "output_currency", "owner",
    "parameters", "pricing_url", "provider", "refId", "updated",
}  # fmt: skip
# The configuration fields relaygate always fills.
SEED_CONFIGURATION = {
    "provider", "auth_type", "base_url", "is_openai_compatible", "is_tuned_model", "region", "subtype",
    "workspace_id",
}  # fmt: skip


def full_body(upstream: FakeUpstream, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "api_key": upstream.api_key,
        "base_url": upstream.url,
        "display_name": "Custom Groq Llama 3.3",
        "model_id": "gpt-test",
        "model_type": "chat",
        "region": "us",
        "cost_per_image": 0.04,
        "description": "for tests",
        "has_reasoning": False,
        "input_cost": 0.59,
        "max_tokens": 1024,
        "output_cost": 0.79,
        "supports_image_edit": False,
        "supports_strict_tool": True,
        "supports_tool_calling": True,
        "supports_vision": True,
        "temperature": 0.7,
        "provider": "groq",
    }
    body.update(overrides)
    return body


def test_create_answers_200_with_every_seed_field(workspace: Workspace, upstream: FakeUpstream) -> None:
    response = workspace.api("POST", "/v2/models/openai-like", json=full_body(upstream))
    assert response.status_code == 200, response.text
    model = response.json()
    assert set(model) >= SEED_FIELDS
    assert set(model["configuration"]) >= SEED_CONFIGURATION
    assert model["router_id"] == "groq/gpt-test"
    assert model["refId"] == "groq/gpt-test"
    assert model["display_name"] == "Custom Groq Llama 3.3"
    assert model["model_type"] == "chat"
    assert model["provider"] == "groq"
    assert model["input_cost"] == 0.59
    assert model["output_cost"] == 0.79
    assert model["configuration"]["base_url"] == upstream.url
    assert model["configuration"]["region"] == "us"
    assert model["configuration"]["is_openai_compatible"] is True
    assert model["configuration"]["workspace_id"] == model["owner"]
    metadata = model["metadata"]
    assert metadata["is_private"] is True
    assert metadata["supports_tool_calling"] is True
    assert metadata["supports_vision"] is True
    assert metadata["supports_strict_tool"] is True
    assert metadata["supports_image_edit"] is False
    assert metadata["cost_per_image"] == 0.04
    assert [check["name"] for check in metadata["validation"]["checks"]] == [
        "connectivity", "authentication", "capability",
        # one check per claimed capability, then whether the upstream has /responses
        "supports_tool_calling", "supports_strict_tool", "supports_vision", "supports_responses_api",
    ]  # fmt: skip
    assert metadata["validation"]["status"] == "passed"  # "no /responses" is a skipped check
    assert {p["parameter"] for p in model["parameters"]} == {"max_tokens", "temperature"}
    assert model["created"].endswith("Z")
    assert model["updated"].endswith("Z")
    assert upstream.api_key is not None
    assert upstream.api_key not in response.text


def test_probe_runs_the_minimal_call_before_storing(
    workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    workspace.add_model(fake_upstream, "gpt-test", provider="probe")
    calls = [(r.method, r.path) for r in fake_upstream.requests]
    # the minimal call, then the probe asks whether the upstream has /responses (no claims made)
    assert calls == [("GET", "/v1/models"), ("POST", "/v1/chat/completions"), ("POST", "/v1/responses")]
    probe = fake_upstream.requests[1].json
    assert probe is not None
    assert probe["max_tokens"] == 1


def test_wrong_upstream_key_fails_authentication_and_stores_nothing(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    response = workspace.api("POST", "/v2/models/openai-like", json=full_body(upstream, api_key="sk-wrong"))
    body = assert_openai_error(response, 400, "invalid_request_error")
    assert body["error"]["code"] == "authentication_failed"
    assert "HTTP 401" in body["error"]["message"]
    assert "Incorrect API key" in body["error"]["message"]
    assert body["validation"]["checks"][-1]["name"] == "authentication"
    assert "sk-wrong" not in response.text
    assert workspace.api("GET", "/v2/models").json()["data"] == []


def test_unreachable_upstream_fails_connectivity(workspace: Workspace, upstream: FakeUpstream) -> None:
    response = workspace.api(
        "POST", "/v2/models/openai-like", json=full_body(upstream, base_url="http://127.0.0.1:9/v1")
    )
    body = assert_openai_error(response, 400, "invalid_request_error")
    assert body["error"]["code"] == "connectivity_failed"


def test_unknown_upstream_model_fails_capability(workspace: Workspace, upstream: FakeUpstream) -> None:
    response = workspace.api(
        "POST", "/v2/models/openai-like", json=full_body(upstream, model_id="no-such-model")
    )
    body = assert_openai_error(response, 400, "invalid_request_error")
    assert body["error"]["code"] == "capability_failed"
    assert "HTTP 404" in body["error"]["message"]
    assert {check["name"]: check["status"] for check in body["validation"]["checks"]}["model"] == "warning"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", "x" * 129),
        ("model_id", "m" * 129),
        ("api_key", "k" * 129),
        ("model_type", "video"),
        ("temperature", 3),
        ("max_tokens", -1),
        ("input_cost", -0.1),
        ("base_url", "ftp://example.com"),
        ("unknown_field", 1),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(
    workspace: Workspace, upstream: FakeUpstream, field: str, value: Any
) -> None:
    response = workspace.api("POST", "/v2/models/openai-like", json=full_body(upstream, **{field: value}))
    body = assert_openai_error(response, 400, "invalid_request_error")
    assert field in body["error"]["message"] or field == "base_url"
    assert "k" * 129 not in response.text


def test_missing_required_field_is_400(workspace: Workspace, upstream: FakeUpstream) -> None:
    body = full_body(upstream)
    del body["display_name"]  # region and api_key may be left out: they have defaults
    response = workspace.api("POST", "/v2/models/openai-like", json=body)
    assert assert_openai_error(response, 400, "invalid_request_error")["error"]["param"] == "display_name"


def test_duplicate_router_id_is_409(workspace: Workspace, upstream: FakeUpstream) -> None:
    workspace.add_model(upstream, "gpt-test", provider="dup")
    response = workspace.api("POST", "/v2/models/openai-like", json=full_body(upstream, provider="dup"))
    assert_openai_error(response, 409, "invalid_request_error")


def test_a_wrong_method_is_405_with_allow(workspace: Workspace) -> None:
    response = workspace.api("PUT", "/v2/models")
    body = assert_openai_error(response, 405, "invalid_request_error")
    assert body["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET"


def test_provider_defaults_from_the_base_url_host(workspace: Workspace, upstream: FakeUpstream) -> None:
    body = full_body(upstream)
    del body["provider"]
    model = workspace.api("POST", "/v2/models/openai-like", json=body).json()
    assert model["provider"] == "127-0-0-1"
    assert model["router_id"] == "127-0-0-1/gpt-test"


def test_list_get_patch_delete(workspace: Workspace, upstream: FakeUpstream) -> None:
    created = workspace.add_model(upstream, "gpt-test", provider="crud", input_cost=1)
    listed = workspace.api("GET", "/v2/models").json()
    assert listed["object"] == "list"
    assert [m["id"] for m in listed["data"]] == [created["id"]]
    assert workspace.api("GET", f"/v2/models/{created['id']}").json()["router_id"] == "crud/gpt-test"

    patch = {"display_name": "Renamed", "model_type": "chat", "region": "eu", "output_cost": 2}
    response = workspace.api("PATCH", f"/v2/models/openai-like/{created['id']}", json=patch)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["display_name"] == "Renamed"
    assert updated["configuration"]["region"] == "eu"
    assert updated["input_cost"] == 1
    assert updated["output_cost"] == 2
    assert updated["metadata"]["validation"] == created["metadata"]["validation"]  # no re-probe needed

    deleted = workspace.api("DELETE", f"/v2/models/{created['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["deleted"] is True
    assert_openai_error(workspace.api("GET", f"/v2/models/{created['id']}"), 404, "invalid_request_error")
    with pytest.raises(Exception, match="404"):
        workspace.client().chat.completions.create(
            model="crud/gpt-test", messages=[{"role": "user", "content": "x"}]
        )


def test_patch_that_changes_the_connection_reprobes(
    workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    created = workspace.add_model(fake_upstream, "gpt-test", provider="reprobe")
    fake_upstream.reset()
    patch = {"display_name": "x", "model_type": "chat", "region": "us", "api_key": "sk-wrong"}
    response = workspace.api("PATCH", f"/v2/models/openai-like/{created['id']}", json=patch)
    assert (
        assert_openai_error(response, 400, "invalid_request_error")["error"]["code"]
        == "authentication_failed"
    )
    assert fake_upstream.requests, "the PATCH did not probe"
    # The failed PATCH changed nothing: the model still routes with its old key.
    workspace.client().chat.completions.create(
        model="reprobe/gpt-test", messages=[{"role": "user", "content": "x"}]
    )


def test_patch_to_a_new_base_url_needs_the_key_again(workspace: Workspace, upstream: FakeUpstream) -> None:
    created = workspace.add_model(upstream, "gpt-test", provider="moved")
    patch = {"display_name": "x", "model_type": "chat", "region": "us", "base_url": "http://127.0.0.1:9/v1"}
    response = workspace.api("PATCH", f"/v2/models/openai-like/{created['id']}", json=patch)
    assert assert_openai_error(response, 400, "invalid_request_error")["error"]["param"] == "api_key"


def test_disable_hides_the_model_from_the_router(workspace: Workspace, upstream: FakeUpstream) -> None:
    created = workspace.add_model(upstream, "gpt-test", provider="toggle")
    patch = {"display_name": "x", "model_type": "chat", "region": "us", "enabled": False}
    assert (
        workspace.api("PATCH", f"/v2/models/openai-like/{created['id']}", json=patch).json()["enabled"]
        is False
    )
    assert [m.id for m in workspace.client().models.list()] == []
    patch["enabled"] = True
    workspace.api("PATCH", f"/v2/models/openai-like/{created['id']}", json=patch)
    assert [m.id for m in workspace.client().models.list()] == ["toggle/gpt-test"]


def test_validate_reprobes_and_records(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    created = workspace.add_model(fake_upstream, "gpt-test", provider="reval")
    fake_upstream.reset()
    response = workspace.api("POST", f"/v2/models/{created['id']}/validate")
    assert response.status_code == 200
    assert response.json()["metadata"]["validation"]["status"] == "passed"
    assert len(fake_upstream.requests) == 3  # listing, minimal call, /responses detection


def test_progressive_validation_events(workspace: Workspace, upstream: FakeUpstream) -> None:
    with httpx.stream(
        "POST",
        f"{workspace.server.url}/v2/models/openai-like",
        json=full_body(upstream, provider="sse"),
        headers={"authorization": f"Bearer {workspace.admin_key}", "accept": "text/event-stream"},
        timeout=30,
    ) as response:
        text = response.read().decode()
    events = [block.split("\n")[0].removeprefix("event: ") for block in text.strip().split("\n\n")]
    assert events == ["check"] * 7 + ["model"]  # 3 probe checks, 3 claims, /responses detection


def test_router_keys_cannot_manage(workspace: Workspace) -> None:
    router_key = workspace.new_key("router")
    for method, path in [("GET", "/v2/models"), ("POST", "/v2/api-keys"), ("GET", "/v2/api-keys")]:
        assert_openai_error(workspace.api(method, path, key=router_key, json={}), 403, "permission_error")


def test_keys_api_create_list_revoke(workspace: Workspace, chat_model: dict[str, Any]) -> None:
    created = workspace.api("POST", "/v2/api-keys", json={"name": "svc", "role": "router"}).json()
    secret = created["key"]
    assert secret.startswith("rg-")
    assert created["prefix"] == secret[:9]
    listed = workspace.api("GET", "/v2/api-keys").json()["data"]
    assert secret not in str(listed)
    assert {k["name"] for k in listed} == {"admin", "svc"}
    client = workspace.client(secret)
    client.chat.completions.create(model="fake/gpt-test", messages=[{"role": "user", "content": "x"}])
    assert workspace.api("DELETE", f"/v2/api-keys/{created['id']}").status_code == 200
    assert workspace.api("GET", "/v3/router/models", key=secret).status_code == 401  # at once


def test_openapi_document_is_served(relaygate: Any) -> None:
    document = relaygate.api("GET", "/openapi.json").json()
    assert "/v2/models/openai-like" in document["paths"]
