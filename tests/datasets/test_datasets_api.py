"""/v2/datasets over real sockets: datasets and datapoints, their pages, their errors, and
isolation between workspaces. Files and traffic are ``test_dataset_transfers.py``'s."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support.server import Workspace
from tests_shared import assert_openai_error

QUESTION = {"inputs": {"question": "Refunds?"}, "messages": [{"role": "user", "content": "Refunds?"}],
            "expected_output": "30 days."}  # fmt: skip


def new_dataset(workspace: Workspace, name: str = "support") -> dict[str, Any]:
    response = workspace.api("POST", "/v2/datasets", json={"display_name": name, "path": "Default"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def sdk_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """An OpenAI-shaped error that also carries the top-level ``message`` the SDKs read."""
    body = assert_openai_error(response, status, response.json()["error"]["type"])
    assert body["message"] == body["error"]["message"]
    return body


def test_a_dataset_is_created_read_renamed_and_deleted(workspace: Workspace) -> None:
    dataset = new_dataset(workspace)
    assert len(dataset["_id"]) == 26
    assert dataset["display_name"] == "support"
    assert dataset["metadata"] == {"total_versions": 0, "datapoints_count": 0}
    assert dataset["created"].endswith("Z")
    assert dataset["created_by_id"] == dataset["updated_by_id"]
    assert dataset["project_id"] == dataset["workspace_id"]
    path = f"/v2/datasets/{dataset['_id']}"
    assert workspace.api("GET", path).json() == dataset
    renamed = workspace.api("PATCH", path, json={"display_name": "support v2"}).json()
    assert renamed["display_name"] == "support v2"
    assert renamed["updated"] >= dataset["updated"]
    unchanged = workspace.api("PATCH", path)  # the Node SDK may send no body at all
    assert unchanged.json()["display_name"] == "support v2"
    deleted = workspace.api("DELETE", path)
    assert (deleted.status_code, deleted.content) == (204, b"")
    error = sdk_error(workspace.api("GET", path), 404)
    assert dataset["_id"] in error["message"]


def test_datapoints_are_added_one_by_one_and_in_bulk_listed_in_order_changed_and_removed(
    workspace: Workspace,
) -> None:
    dataset = new_dataset(workspace)
    base = f"/v2/datasets/{dataset['_id']}"
    created = workspace.api("POST", f"{base}/datapoints", json=[QUESTION]).json()
    assert len(created) == 1
    first = created[0]
    assert {key: first[key] for key in QUESTION} == QUESTION
    assert (first["dataset_id"], first["workspace_id"]) == (dataset["_id"], dataset["workspace_id"])
    bulk = workspace.api(
        "POST", f"{base}/datapoints/bulk", json={"items": [{"expected_output": "b"}, {"inputs": {"n": 2}}]}
    )
    assert bulk.status_code == 200, bulk.text
    second, third = bulk.json()
    assert set(second) & {"inputs", "messages"} == set()  # absent, never null (Node)
    listed = workspace.api("GET", f"{base}/datapoints").json()
    assert listed["object"] == "list"
    assert listed["has_more"] is False
    assert [item["_id"] for item in listed["data"]] == [first["_id"], second["_id"], third["_id"]]
    assert workspace.api("GET", base).json()["metadata"]["datapoints_count"] == 3

    point = f"{base}/datapoints/{first['_id']}"
    changed = workspace.api(
        "PATCH", point, json={"expected_output": None, "inputs": {"question": "Returns?"}}
    ).json()
    assert changed["inputs"] == {"question": "Returns?"}
    assert "expected_output" not in changed
    assert workspace.api("GET", point).json() == changed
    assert workspace.api("DELETE", point).status_code == 204
    sdk_error(workspace.api("GET", point), 404)
    sdk_error(workspace.api("DELETE", point), 404)
    gone = workspace.api(
        "POST", f"{base}/datapoints-bulk-delete", json={"item_ids": [second["_id"], "unknown"]}
    )
    assert (gone.status_code, gone.content) == (204, b"")
    assert [item["_id"] for item in workspace.api("GET", f"{base}/datapoints").json()["data"]] == [
        third["_id"]
    ]
    assert workspace.api("DELETE", f"{base}/clear").status_code == 204
    assert workspace.api("GET", base).json()["metadata"]["datapoints_count"] == 0


def test_a_datapoint_the_sdks_could_not_read_back_is_refused_whole(workspace: Workspace) -> None:
    dataset = new_dataset(workspace)
    base = f"/v2/datasets/{dataset['_id']}"
    body = [QUESTION, {"messages": [{"role": "user"}]}]
    error = sdk_error(workspace.api("POST", f"{base}/datapoints", json=body), 400)["error"]
    assert error["param"] == "[1].messages[0].content"
    assert error["code"] == "invalid_datapoint"
    bulk = sdk_error(workspace.api("POST", f"{base}/datapoints/bulk", json={"items": [{"answer": "x"}]}), 400)
    assert bulk["error"]["param"] == "items[0].answer"
    assert workspace.api("GET", base).json()["metadata"]["datapoints_count"] == 0


def test_lists_page_by_id_both_ways(workspace: Workspace) -> None:
    ids = [new_dataset(workspace, f"set-{n}")["_id"] for n in range(5)]
    newest_first = list(reversed(ids))
    first = workspace.api("GET", "/v2/datasets", params={"limit": 2}).json()
    assert ([d["_id"] for d in first["data"]], first["has_more"]) == (newest_first[:2], True)
    after = workspace.api(
        "GET", "/v2/datasets", params={"limit": 2, "starting_after": newest_first[1]}
    ).json()
    assert [d["_id"] for d in after["data"]] == newest_first[2:4]
    last = workspace.api("GET", "/v2/datasets", params={"limit": 2, "starting_after": newest_first[3]}).json()
    assert ([d["_id"] for d in last["data"]], last["has_more"]) == (newest_first[4:], False)
    before = workspace.api(
        "GET", "/v2/datasets", params={"limit": 2, "ending_before": newest_first[4]}
    ).json()
    assert ([d["_id"] for d in before["data"]], before["has_more"]) == (newest_first[2:4], True)
    found = workspace.api("GET", "/v2/datasets", params={"search": "SET-3"}).json()["data"]
    assert [d["_id"] for d in found] == [ids[3]]
    other_project = workspace.api("GET", "/v2/datasets", params={"project_id": "elsewhere"}).json()
    assert other_project == {"object": "list", "data": [], "has_more": False}


def test_another_workspace_sees_nothing_and_a_router_key_changes_nothing(
    workspace: Workspace, relaygate: Any
) -> None:
    dataset = new_dataset(workspace, "secret-set")
    base = f"/v2/datasets/{dataset['_id']}"
    point = workspace.api("POST", f"{base}/datapoints", json=[QUESTION]).json()[0]
    other = relaygate.new_workspace("other")
    calls = [
        ("GET", base, None),
        ("PATCH", base, {"display_name": "pwned"}),
        ("DELETE", f"{base}/clear", None),
        ("GET", f"{base}/datapoints", None),
        ("POST", f"{base}/datapoints", [QUESTION]),
        ("GET", f"{base}/datapoints/{point['_id']}", None),
        ("PATCH", f"{base}/datapoints/{point['_id']}", {"expected_output": "pwned"}),
        ("DELETE", f"{base}/datapoints/{point['_id']}", None),
        ("POST", f"{base}/datapoints-bulk-delete", {"item_ids": [point["_id"]]}),
        ("GET", f"{base}/export", None),
        ("POST", f"{base}/from-traffic", {}),
        ("DELETE", base, None),
    ]
    for method, path, body in calls:
        response = other.api(method, path, json=body)
        assert response.status_code == 404, f"{method} {path}: {response.text}"
        assert "secret-set" not in response.text
    assert "secret-set" not in other.api("GET", "/v2/datasets").text
    router_key = workspace.new_key("router")
    refused = workspace.api("POST", f"{base}/datapoints", key=router_key, json=[QUESTION])
    assert "admin key" in sdk_error(refused, 403)["message"]
    assert workspace.api("GET", base).json()["metadata"]["datapoints_count"] == 1


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "display_name"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "x", "color": "red"}, "color"),
    ],
)
def test_a_bad_dataset_body_is_a_400_naming_the_field(
    workspace: Workspace, body: dict[str, Any], param: str
) -> None:
    error = sdk_error(workspace.api("POST", "/v2/datasets", json=body), 400)["error"]
    assert error["param"] == param
