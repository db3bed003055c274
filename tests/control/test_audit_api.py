"""GET /v2/audit: every write of the /v2 API recorded with who, before and after (no secret),
filters, keyset pages, request id and client address, isolation between workspaces."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from support.server import Workspace
from tests_shared import assert_openai_error
from upstream import FakeUpstream

MODEL_SECRET = "sk-upstream-audit-secret-0001"
HEADER_SECRET = "Bearer scorer-audit-secret-0002"
SEARCH_SECRET = "tvly-audit-secret-0003"


@pytest.fixture(scope="module")
def keyed_upstream() -> Iterator[FakeUpstream]:
    """An upstream whose API key is a secret the log must never show."""
    with FakeUpstream(api_key=MODEL_SECRET) as server:
        yield server


def _audit(workspace: Workspace, **params: Any) -> list[dict[str, Any]]:
    response = workspace.api("GET", "/v2/audit", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 204), response.text
    return dict(response.json()) if response.status_code == 200 else {}


def _entries(workspace: Workspace, resource: str) -> dict[str, dict[str, Any]]:
    """The resource type's entries by action (the newest of each)."""
    found: dict[str, dict[str, Any]] = {}
    for entry in reversed(_audit(workspace, resource_type=resource)):
        found[entry["action"]] = entry
    return found


def _changes_models_keys_budgets(workspace: Workspace, upstream: FakeUpstream) -> None:
    model = workspace.add_model(upstream, "gpt-test", provider="audit-one")
    _ok(
        workspace.api(
            "PATCH",
            f"/v2/models/openai-like/{model['id']}",
            json={"display_name": "Renamed", "model_type": "chat"},
        )
    )
    _ok(workspace.api("DELETE", f"/v2/models/{model['id']}"))
    key = _ok(workspace.api("POST", "/v2/api-keys", json={"role": "router", "name": "audited"}))
    _ok(workspace.api("PATCH", f"/v2/api-keys/{key['id']}", json={"limits": {"requests_per_minute": 7}}))
    _ok(workspace.api("DELETE", f"/v2/api-keys/{key['id']}"))
    budget = _ok(workspace.api("POST", "/v2/budgets", json={"scope": "workspace", "amount_usd": 5}))
    _ok(workspace.api("PATCH", f"/v2/budgets/{budget['id']}", json={"amount_usd": 9}))
    _ok(workspace.api("DELETE", f"/v2/budgets/{budget['id']}"))
    _check_model_key_budget(workspace, model, key, budget)


def _check_model_key_budget(
    workspace: Workspace, model: dict[str, Any], key: dict[str, Any], budget: dict[str, Any]
) -> None:
    models = _entries(workspace, "model")
    assert models["create"]["resource_id"] == model["id"]
    assert models["create"]["before"] is None
    assert models["create"]["after"]["router_id"] == model["router_id"]
    assert models["update"]["before"]["display_name"] == "Test gpt-test"
    assert models["update"]["after"]["display_name"] == "Renamed"
    assert models["delete"]["before"]["display_name"] == "Renamed"
    assert models["delete"]["after"] is None
    keys = _entries(workspace, "api_key")
    assert keys["create"]["resource_id"] == key["id"]
    assert keys["create"]["after"]["name"] == "audited"
    assert keys["update"]["after"]["limits"]["requests_per_minute"] == 7
    assert keys["delete"]["before"]["id"] == key["id"]
    budgets = _entries(workspace, "budget")
    assert budgets["create"]["after"]["amount_usd"] == 5
    assert (budgets["update"]["before"]["amount_usd"], budgets["update"]["after"]["amount_usd"]) == (5, 9)
    assert budgets["delete"]["before"]["amount_usd"] == 9


def _changes_deployments_datasets(workspace: Workspace, upstream: FakeUpstream) -> None:
    model = workspace.add_model(upstream, "gpt-test", provider="audit-two")
    messages = [{"role": "user", "content": "{{q}}"}]
    body = {"key": "audited", "model": model["router_id"], "messages": messages}
    _ok(workspace.api("POST", "/v2/deployments", json=body))
    _ok(workspace.api("PATCH", "/v2/deployments/audited", json={"description": "second"}))
    _ok(workspace.api("DELETE", "/v2/deployments/audited"))
    deployments = _entries(workspace, "deployment")
    assert set(deployments) == {"create", "update", "delete"}
    assert deployments["update"]["after"]["description"] == "second"
    assert deployments["delete"]["before"]["key"] == "audited"
    dataset = _ok(workspace.api("POST", "/v2/datasets", json={"display_name": "before"}))
    _ok(workspace.api("PATCH", f"/v2/datasets/{dataset['_id']}", json={"display_name": "after"}))
    _ok(workspace.api("DELETE", f"/v2/datasets/{dataset['_id']}"))
    datasets = _entries(workspace, "dataset")
    assert datasets["create"]["resource_id"] == dataset["_id"]
    assert datasets["update"]["before"]["display_name"] == "before"
    assert datasets["update"]["after"]["display_name"] == "after"
    assert datasets["delete"]["before"]["display_name"] == "after"


def _changes_evaluators_search(workspace: Workspace, upstream: FakeUpstream) -> None:
    body = {
        "type": "http_eval",
        "key": "remote",
        "url": f"{upstream.url}/score",
        "headers": {"Authorization": HEADER_SECRET},
    }
    evaluator = _ok(workspace.api("POST", "/v2/evaluators", json=body))
    _ok(workspace.api("PATCH", f"/v2/evaluators/{evaluator['_id']}", json={"timeout_ms": 300}))
    _ok(workspace.api("DELETE", f"/v2/evaluators/{evaluator['_id']}"))
    evaluators = _entries(workspace, "evaluator")
    assert evaluators["create"]["after"]["headers"] == {"Authorization": "[redacted]"}
    assert evaluators["update"]["after"]["timeout_ms"] == 300
    assert set(evaluators) == {"create", "update", "delete"}
    search = {"kind": "tavily", "base_url": upstream.url, "api_key": SEARCH_SECRET}
    _ok(workspace.api("PUT", "/v2/search/backend", json=search))
    _ok(
        workspace.api(
            "PUT", "/v2/search/backend", json={"kind": "tavily", "base_url": upstream.url, "max_searches": 2}
        )
    )
    _ok(workspace.api("DELETE", "/v2/search/backend"))
    backends = [entry for entry in _audit(workspace, resource_type="search_backend")]
    assert [entry["action"] for entry in backends] == ["delete", "set", "set"]
    assert backends[2]["before"] is None
    assert backends[2]["after"]["kind"] == "tavily"
    assert backends[1]["after"]["max_searches"] == 2
    assert backends[0]["after"] is None


def _changes_alert_rules(workspace: Workspace, upstream: FakeUpstream) -> str:
    body = {"name": "watch", "kind": "model_failing", "webhook_url": f"{upstream.url}/hook"}
    rule = _ok(workspace.api("POST", "/v2/alerts/rules", json=body))
    _ok(workspace.api("PATCH", f"/v2/alerts/rules/{rule['id']}", json={"enabled": False}))
    _ok(workspace.api("DELETE", f"/v2/alerts/rules/{rule['id']}"))
    rules = _entries(workspace, "alert_rule")
    assert rules["create"]["after"]["name"] == "watch"
    assert (rules["update"]["before"]["enabled"], rules["update"]["after"]["enabled"]) == (True, False)
    assert rules["delete"]["before"]["id"] == rule["id"]
    return str(rule["secret"])


def test_every_kind_of_change_is_recorded_with_before_and_after_and_no_secret(
    workspace: Workspace, keyed_upstream: FakeUpstream
) -> None:
    _changes_models_keys_budgets(workspace, keyed_upstream)
    _changes_deployments_datasets(workspace, keyed_upstream)
    _changes_evaluators_search(workspace, keyed_upstream)
    webhook_secret = _changes_alert_rules(workspace, keyed_upstream)
    entries = _audit(workspace)
    text = json.dumps(entries)
    for secret in (
        MODEL_SECRET,
        HEADER_SECRET,
        SEARCH_SECRET,
        "scorer-audit-secret",
        "key_hash",
        webhook_secret,
    ):
        assert secret not in text
    new_key = _entries(workspace, "api_key")["create"]
    assert "key" not in new_key["after"]  # the new key's secret: in its create answer only
    admin_id = entries[0]["actor"]["key_id"]
    assert all(entry["actor"]["key_id"] == admin_id for entry in entries)
    assert entries[0]["actor"]["prefix"]
    assert entries[0]["actor"]["name"]
    assert all(entry["client_address"] == "127.0.0.1" for entry in entries)
    assert [entry["id"] for entry in entries] == sorted((entry["id"] for entry in entries), reverse=True)


def test_refused_writes_and_reads_are_not_recorded(workspace: Workspace, upstream: FakeUpstream) -> None:
    assert workspace.api("PATCH", "/v2/budgets/nope", json={"amount_usd": 1}).status_code == 404
    assert workspace.api("POST", "/v2/api-keys", json={"role": "nobody"}).status_code == 400
    workspace.api("GET", "/v2/models")
    bad = {
        "model_type": "chat",
        "base_url": upstream.url,
        "api_key": "x",
        "model_id": "m",
        "display_name": "x",
    }
    failing = workspace.api(
        "POST", "/v2/models/openai-like", json={**bad, "base_url": upstream.url + "/nowhere"}
    )
    assert failing.status_code >= 400
    assert _audit(workspace) == []


def test_request_id_filters_pages_and_isolation(workspace: Workspace, relaygate: Any) -> None:
    response = workspace.api(
        "POST",
        "/v2/api-keys",
        json={"role": "admin", "name": "second"},
        headers={"x-request-id": "req-audit-1"},
    )
    assert response.headers["x-request-id"] == "req-audit-1"
    second = response.json()
    for index in range(3):
        workspace.api(
            "POST",
            "/v2/budgets",
            json={"scope": "identity", "subject_id": f"u{index}", "amount_usd": 1},
            key=second["key"],
        )
    first = _audit(workspace, resource_type="api_key")[0]
    assert first["request_id"] == "req-audit-1"
    assert first["actor"]["key_id"] != second["id"]
    by_second = _audit(workspace, actor=second["id"])
    assert len(by_second) == 3
    assert {entry["actor"]["name"] for entry in by_second} == {"second"}
    assert by_second[0]["actor"]["prefix"] == second["prefix"]
    assert _audit(workspace, action="delete") == []
    assert len(_audit(workspace, resource_id=by_second[1]["resource_id"])) == 1
    assert _audit(workspace, **{"from": "2999-01-01T00:00:00Z"}) == []
    page = workspace.api("GET", "/v2/audit", params={"limit": 2}).json()
    assert len(page["data"]) == 2
    assert page["has_more"] is True
    rest = workspace.api("GET", "/v2/audit", params={"limit": 2, "after": page["next_cursor"]}).json()
    assert len(rest["data"]) == 2
    assert rest["has_more"] is False
    seen = [entry["id"] for entry in page["data"] + rest["data"]]
    assert len(set(seen)) == 4
    other = relaygate.new_workspace()
    assert _audit(other) == []
    router_key = workspace.new_key("router")
    assert_openai_error(workspace.api("GET", "/v2/audit", key=router_key), 403, "permission_error")
    bad_cursor = workspace.api("GET", "/v2/audit", params={"after": "bad"})
    assert assert_openai_error(bad_cursor, 400, "invalid_request_error")["error"]["param"] == "after"
    bad_time = workspace.api("GET", "/v2/audit", params={"from": "yesterday"})
    assert assert_openai_error(bad_time, 400, "invalid_request_error")["error"]["param"] == "from"


def test_a_model_created_with_live_checks_is_recorded_once_it_succeeds(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    body = {"model_type": "chat", "base_url": upstream.url, "api_key": upstream.api_key,
            "model_id": "gpt-test", "display_name": "Streamed", "provider": "streamed"}  # fmt: skip
    events = {"accept": "text/event-stream"}
    refused = workspace.api(
        "POST", "/v2/models/openai-like", json={**body, "api_key": "wrong"}, headers=events
    )
    assert refused.status_code == 200  # the stream started; it ends in an error event
    assert "event: error" in refused.text
    assert _audit(workspace) == []
    created = workspace.api("POST", "/v2/models/openai-like", json=body, headers=events)
    assert "event: model" in created.text
    [entry] = _audit(workspace)
    assert (entry["action"], entry["resource_type"]) == ("create", "model")
    assert entry["after"]["display_name"] == "Streamed"
    assert entry["resource_id"] == entry["after"]["id"]
