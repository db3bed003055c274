"""/v2/evaluators over real sockets: definitions checked against the workspace, versions,
the test routes, and isolation between workspaces. Each kind's scores are
``test_evaluator_kinds.py``'s."""

from __future__ import annotations

from typing import Any

import httpx

from support.server import RelaygateServer, Workspace
from tests_shared import assert_openai_error

CONTAINS = {
    "type": "function_eval",
    "key": "mentions-refund",
    "description": "Says refund",
    "function_params": {"type": "contains_any", "keywords": ["refund"], "ignore_case": True},
}


def create(workspace: Workspace, body: dict[str, Any]) -> dict[str, Any]:
    response = workspace.api("POST", "/v2/evaluators", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def refused(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    body = assert_openai_error(response, status, response.json()["error"]["type"])
    assert body["message"] == body["error"]["message"]  # the SDKs' typed errors read it
    return dict(body["error"])


def test_an_evaluator_is_created_read_and_listed_in_the_sdk_shape(workspace: Workspace) -> None:
    created = create(workspace, CONTAINS)
    assert len(created["_id"]) == 26
    assert {
        key: created[key] for key in ("key", "type", "kind", "output_type", "description", "version")
    } == {
        "key": "mentions-refund",
        "type": "function_eval",
        "kind": "contains",
        "output_type": "boolean",
        "description": "Says refund",
        "version": 1,
    }
    assert created["function_params"] == {"type": "contains_any", "keywords": ["refund"], "ignore_case": True}
    assert (created["display_name"], created["domain_id"], created["project_id"]) == (
        "mentions-refund",
        created["domain_id"],
        created["domain_id"],
    )
    by_id = workspace.api("GET", f"/v2/evaluators/{created['_id']}").json()
    by_key = workspace.api("GET", "/v2/evaluators/mentions-refund").json()
    assert by_id == by_key == created
    listed = workspace.api("GET", "/v2/evaluators").json()
    assert (listed["object"], [item["_id"] for item in listed["data"]], listed["has_more"]) == (
        "list",
        [created["_id"]],
        False,
    )
    duplicate = refused(workspace.api("POST", "/v2/evaluators", json=CONTAINS), 409)
    assert "mentions-refund" in duplicate["message"]


def test_every_change_is_a_version_and_history_is_kept(workspace: Workspace) -> None:
    created = create(workspace, CONTAINS)
    path = f"/v2/evaluators/{created['_id']}"
    changed = workspace.api(
        "PATCH",
        path,
        json={"description": "v2", "versionIncrement": "minor", "versionDescription": "clearer"},
    ).json()
    assert (changed["version"], changed["description"], changed["function_params"]) == (
        2,
        "v2",
        created["function_params"],
    )
    same = workspace.api("PATCH", path, json={"description": "v2"}).json()
    assert same["version"] == 2  # nothing changed: no new version
    retyped = workspace.api(
        "PATCH", path, json={"function_params": {"type": "regex", "pattern": "refund(ed)?"}}
    ).json()
    assert (retyped["version"], retyped["kind"]) == (3, "regex")
    versions = workspace.api("GET", f"{path}/versions").json()
    assert [item["version"] for item in versions["data"]] == [3, 2, 1]
    assert versions["data"][1]["note"] == "clearer"
    first = workspace.api("GET", f"{path}/versions/1").json()
    assert (first["kind"], first["description"]) == ("contains", "Says refund")
    assert workspace.api("GET", f"{path}/versions/{versions['data'][0]['_id']}").json()["kind"] == "regex"
    refused(workspace.api("GET", f"{path}/versions/9"), 404)
    paged = workspace.api(
        "GET", f"{path}/versions", params={"limit": 1, "starting_after": versions["data"][0]["_id"]}
    )
    assert [item["version"] for item in paged.json()["data"]] == [2]
    assert workspace.api("DELETE", path).status_code == 204
    refused(workspace.api("GET", path), 404)
    refused(workspace.api("DELETE", path), 404)


def test_a_definition_is_checked_against_the_workspace(workspace: Workspace, upstream: Any) -> None:
    chat = workspace.add_model(upstream, "gpt-test")["router_id"]
    judge = {"type": "llm_eval", "key": "judge", "mode": "single", "prompt": "Rate {{output}}"}
    unknown = refused(workspace.api("POST", "/v2/evaluators", json={**judge, "model": "openai/gpt-4o"}))
    assert unknown["param"] == "model"
    assert "enabled chat model of this workspace" in unknown["message"]
    similar = {"type": "cosine_similarity", "model": chat, "threshold": 0.8}
    not_embedding = {"type": "function_eval", "key": "similar", "function_params": similar}
    error = refused(workspace.api("POST", "/v2/evaluators", json=not_embedding))
    assert error["param"] == "function_params.model"
    no_deployment = refused(
        workspace.api("POST", "/v2/evaluators", json={**judge, "model": "deployment/none"})
    )
    assert "not a deployment of this workspace" in no_deployment["message"]
    code = refused(
        workspace.api("POST", "/v2/evaluators", json={"type": "python_eval", "key": "py", "code": "x"})
    )
    assert code["code"] == "unsupported_evaluator_type"
    assert create(workspace, {**judge, "model": chat})["model"] == chat
    changed = refused(workspace.api("PATCH", "/v2/evaluators/judge", json={"model": "nope/nope"}))
    assert changed["param"] == "model"


def test_a_sample_is_scored_by_a_stored_or_an_unsaved_evaluator(workspace: Workspace) -> None:
    created = create(workspace, CONTAINS)
    sample = {"input": {"question": "Can I return it?"}, "output": "Yes, a full REFUND.", "expected": None}
    scored = workspace.api("POST", f"/v2/evaluators/{created['_id']}/test", json=sample).json()
    assert scored == {
        "object": "evaluation",
        "evaluator_id": created["_id"],
        "key": "mentions-refund",
        "version": 1,
        "kind": "contains",
        "value": 1.0,
        "passed": True,
        "reason": None,
        "error": None,
    }
    unsaved = {"type": "function_eval", "function_params": {"type": "length_between", "min": 1, "max": 5}}
    tried = workspace.api("POST", "/v2/evaluators/test", json={**unsaved, "sample": sample}).json()
    assert (tried["evaluator_id"], tried["passed"], tried["reason"]) == (
        None,
        False,
        "19 characters; the bounds are 1 to 5.",
    )
    missing = refused(workspace.api("POST", "/v2/evaluators/test", json=unsaved))
    assert missing["param"] == "sample"
    no_output = refused(workspace.api("POST", f"/v2/evaluators/{created['_id']}/test", json={"input": "x"}))
    assert no_output["param"] == "output"
    exact = {"type": "function_eval", "function_params": {"type": "exact_match"}, "sample": {"output": "a"}}
    without_reference = workspace.api("POST", "/v2/evaluators/test", json=exact).json()
    assert without_reference["value"] is None
    assert "has none" in without_reference["error"]


def test_another_workspace_sees_no_evaluator_and_a_router_key_changes_none(
    workspace: Workspace, relaygate: RelaygateServer
) -> None:
    created = create(workspace, {**CONTAINS, "key": "secret-evaluator"})
    other = relaygate.new_workspace("other")
    path = f"/v2/evaluators/{created['_id']}"
    calls = [
        ("GET", path, None),
        ("GET", "/v2/evaluators/secret-evaluator", None),
        ("PATCH", path, {"description": "pwned"}),
        ("GET", f"{path}/versions", None),
        ("GET", f"{path}/versions/1", None),
        ("POST", f"{path}/test", {"output": "x"}),
        ("DELETE", path, None),
    ]
    for method, target, body in calls:
        response = other.api(method, target, json=body)
        assert response.status_code == 404, f"{method} {target}: {response.text}"
        assert "secret-evaluator" not in response.text or target.endswith("secret-evaluator")
    assert other.api("GET", "/v2/evaluators").json()["data"] == []
    router_key = workspace.new_key("router")
    assert workspace.api("DELETE", path, key=router_key).status_code == 403
    assert workspace.api("GET", path).json()["version"] == 1
