"""A key's expiry and model allow-list: set on create and PATCH, enforced by the data plane.

A model outside a key's allow-list is answered exactly as a model of another workspace
(404 model_not_found on chat, embeddings, GET /models/{id}, a deployment's invoke; left out
of GET /models; a fallback is a 400 as for an unknown model). An expired key is a 401
saying it expired.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from support.deployment_calls import INPUTS, create_deployment, post
from support.server import RelaygateServer, Workspace
from tests_shared import assert_openai_error
from upstream import FakeUpstream

MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


def _create_key(workspace: Workspace, **fields: Any) -> dict[str, Any]:
    response = workspace.api("POST", "/v2/api-keys", json={"name": "scoped", **fields})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _patch(workspace: Workspace, key_id: str, **fields: Any) -> httpx.Response:
    return workspace.api("PATCH", f"/v2/api-keys/{key_id}", json=fields)


def _chat(server: RelaygateServer, key: str, model: str, **fields: Any) -> httpx.Response:
    body = {"model": model, "messages": MESSAGES, **fields}
    return server.api("POST", "/v3/router/chat/completions", key=key, json=body)


def _not_found_body(response: httpx.Response) -> dict[str, Any]:
    body = assert_openai_error(response, 404, "invalid_request_error")
    assert body["error"]["code"] == "model_not_found", body
    return dict(body["error"])


def test_a_model_outside_the_allow_list_is_answered_as_another_workspaces(
    relaygate: RelaygateServer, workspace: Workspace, upstream: FakeUpstream
) -> None:
    allowed = workspace.add_model(upstream, "gpt-test", provider="allowed")["router_id"]
    other = workspace.add_model(upstream, "gpt-test", provider="other")["router_id"]
    embedder = workspace.add_model(upstream, "embed-test", provider="emb", model_type="embedding")[
        "router_id"
    ]
    created = _create_key(workspace, allowed_models=[allowed, allowed])
    assert created["allowed_models"] == [allowed]  # repeats dropped
    key = created["key"]

    assert _chat(relaygate, key, allowed).status_code == 200
    refused = _not_found_body(_chat(relaygate, key, other))
    # Word for word what a model of another workspace gets.
    foreign = relaygate.new_workspace()
    foreign_model = foreign.add_model(upstream, "gpt-test", provider="foreign")["router_id"]
    assert refused["message"] == _not_found_body(_chat(relaygate, key, foreign_model))["message"].replace(
        foreign_model, other
    )
    embeddings = relaygate.api(
        "POST", "/v3/router/embeddings", key=key, json={"model": embedder, "input": "hi"}
    )
    _not_found_body(embeddings)

    listed = relaygate.api("GET", "/v3/router/models", key=key).json()["data"]
    assert [model["id"] for model in listed] == [allowed]
    assert relaygate.api("GET", f"/v3/router/models/{allowed}", key=key).status_code == 200
    _not_found_body(relaygate.api("GET", f"/v3/router/models/{other}", key=key))

    # A fallback outside the list is refused as an unknown model would be.
    fallback = _chat(relaygate, key, allowed, fallbacks=[{"model": other}])
    body = assert_openai_error(fallback, 400, "invalid_request_error")
    assert body["error"]["param"] == "fallbacks[0].model"
    assert "does not exist or you do not have access" in body["error"]["message"]

    # Cleared: every model of the workspace again.
    cleared = _patch(workspace, created["id"], allowed_models=None)
    assert cleared.status_code == 200, cleared.text
    assert "allowed_models" not in cleared.json()
    assert _chat(relaygate, key, other).status_code == 200
    embedded = relaygate.api(
        "POST", "/v3/router/embeddings", key=key, json={"model": embedder, "input": "hi"}
    )
    assert embedded.status_code == 200, embedded.text


def test_a_deployment_whose_model_the_key_may_not_use_is_not_found(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    allowed = workspace.add_model(upstream, "gpt-test", provider="allowed")["router_id"]
    other = workspace.add_model(upstream, "gpt-test", provider="other")["router_id"]
    open_one = create_deployment(workspace, allowed)
    closed_one = create_deployment(workspace, other)
    key = _create_key(workspace, allowed_models=[allowed])["key"]

    def invoke(deployment: str) -> httpx.Response:
        body = {"key": deployment, "inputs": INPUTS}
        return workspace.server.api("POST", "/v2/deployments/invoke", key=key, json=body)

    served = invoke(open_one)
    assert served.status_code == 200, served.text
    _not_found_body(invoke(closed_one))
    # The admin key, without an allow-list, is served.
    assert post(workspace, "invoke", {"key": closed_one, "inputs": INPUTS}).status_code == 200
    # Through the router's chat endpoint too (model "deployment/<key>").
    _not_found_body(_chat(workspace.server, key, f"deployment/{closed_one}", inputs=INPUTS))
    assert _chat(workspace.server, key, f"deployment/{open_one}", inputs=INPUTS).status_code == 200


def test_allow_lists_name_models_of_the_workspace(workspace: Workspace, upstream: FakeUpstream) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    response = workspace.api("POST", "/v2/api-keys", json={"allowed_models": [model, "nope/none"]})
    body = assert_openai_error(response, 400, "invalid_request_error")
    assert body["error"]["param"] == "allowed_models[1]"
    assert "nope/none" in body["error"]["message"]
    key = _create_key(workspace)
    assert "allowed_models" not in key
    patched = _patch(workspace, key["id"], allowed_models=["other/x"])
    assert assert_openai_error(patched, 400, "invalid_request_error")["error"]["param"] == "allowed_models[0]"
    listed = workspace.api("GET", "/v2/api-keys").json()["data"]
    assert all("allowed_models" not in item for item in listed)


def test_an_expired_key_is_told_it_expired(
    relaygate: RelaygateServer, workspace: Workspace, upstream: FakeUpstream
) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    refused = workspace.api("POST", "/v2/api-keys", json={"expires_at": past})
    assert assert_openai_error(refused, 400, "invalid_request_error")["error"]["param"] == "expires_at"

    soon = datetime.now(UTC) + timedelta(seconds=2)
    created = _create_key(workspace, expires_at=soon.isoformat())
    assert created["expires_at"] == soon.isoformat(timespec="microseconds").replace("+00:00", "Z")
    assert created["expired"] is False
    assert _chat(relaygate, created["key"], model).status_code == 200
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.1)
    expired = _chat(relaygate, created["key"], model)
    body = assert_openai_error(expired, 401, "authentication_error")
    assert body["error"]["code"] == "api_key_expired"
    assert "expired at" in body["error"]["message"]
    (shown,) = [
        key for key in workspace.api("GET", "/v2/api-keys").json()["data"] if key["id"] == created["id"]
    ]
    assert shown["expired"] is True

    # A later expiry brings it back at once; null removes the expiry.
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    assert _patch(workspace, created["id"], expires_at=later).status_code == 200
    assert _chat(relaygate, created["key"], model).status_code == 200
    cleared = _patch(workspace, created["id"], expires_at=None)
    assert "expires_at" not in cleared.json()
    assert cleared.json()["expired"] is False


def test_patch_edits_limits_and_budget_of_an_existing_key(workspace: Workspace) -> None:
    key = _create_key(workspace)
    changed = _patch(
        workspace,
        key["id"],
        limits={"requests_per_minute": 30},
        budget={"amount_usd": "2.5", "period": "week"},
    ).json()
    assert changed["limits"] == {"requests_per_minute": 30}
    assert (changed["budget"]["amount_usd"], changed["budget"]["period"]) == (2.5, "week")
    assert changed["refusals"]["budget"] == 0
    # Only what is sent changes.
    renamed = _patch(workspace, key["id"], budget={"amount_usd": "5", "period": "month"}).json()
    assert renamed["limits"] == {"requests_per_minute": 30}
    assert renamed["budget"]["amount_usd"] == 5
    removed = _patch(workspace, key["id"], budget=None, limits=None).json()
    assert "budget" not in removed
    assert removed["limits"] == {}
