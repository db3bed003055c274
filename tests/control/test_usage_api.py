"""GET /v2/usage and /v2/usage/events: totals, series, filters, pages, CSV, isolation."""

from __future__ import annotations

import csv
import io
from typing import Any

from support.server import RelaygateServer, Workspace
from support.usage_events import usage_events
from tests_shared import assert_openai_error
from upstream import FakeUpstream

MESSAGES: list[Any] = [{"role": "user", "content": "hello"}]
SERIES_FIELDS = {
    "bucket", "group", "requests", "errors", "prompt_tokens", "completion_tokens", "total_tokens", "cost",
    "latency_ms_avg",
}  # fmt: skip
# Fields every event of _traffic has; identity_id only the one made for an identity (absent otherwise).
EVENT_FIELDS = {
    "id", "created", "router_model", "endpoint", "status", "stream", "prompt_tokens", "completion_tokens",
    "total_tokens", "cost", "latency_ms", "api_key_id",
}  # fmt: skip


def _traffic(workspace: Workspace, upstream: FakeUpstream) -> tuple[str, str, str]:
    first = workspace.add_model(upstream, "gpt-test", provider="alpha", input_cost="1", output_cost="4")
    second = workspace.add_model(upstream, "gpt-test", provider="beta", input_cost="2", output_cost="8")
    router_key = workspace.new_key("router")
    client = workspace.client()
    for _ in range(3):
        client.chat.completions.create(model=first["router_id"], messages=MESSAGES)
    workspace.client(router_key).chat.completions.create(
        model=second["router_id"], messages=MESSAGES, extra_body={"identity": {"id": "u-1"}}
    )
    usage_events(workspace, 4)
    return first["router_id"], second["router_id"], router_key


def test_usage_totals_series_and_filters(workspace: Workspace, upstream: FakeUpstream) -> None:
    first, second, _ = _traffic(workspace, upstream)
    report = workspace.api("GET", "/v2/usage", params={"group_by": "model", "interval": "hour"}).json()
    assert report["object"] == "usage"
    assert report["interval"] == "hour"
    assert report["group_by"] == "model"
    assert {"from", "to"} <= set(report)
    totals = report["totals"]
    assert totals["requests"] == 4
    assert totals["errors"] == 0
    assert totals["total_tokens"] == totals["prompt_tokens"] + totals["completion_tokens"] > 0
    assert isinstance(totals["cost"], float)
    assert totals["cost"] > 0
    assert totals["latency_ms_avg"] > 0
    groups = {row["group"]: row for row in report["series"]}
    assert set(groups) == {first, second}
    assert groups[first]["requests"] == 3
    assert groups[second]["requests"] == 1
    assert all(set(row) >= SERIES_FIELDS for row in report["series"])
    assert sum(row["cost_nano"] for row in report["series"]) == totals["cost_nano"]
    assert report["series"][0]["bucket"].endswith(":00:00Z")

    by_identity = workspace.api("GET", "/v2/usage", params={"identity": "u-1"}).json()
    assert by_identity["totals"]["requests"] == 1
    by_model = workspace.api("GET", "/v2/usage", params={"model": first, "group_by": "status"}).json()
    assert by_model["totals"]["requests"] == 3
    assert by_model["series"][0]["group"] == "200"
    by_day = workspace.api("GET", "/v2/usage", params={"interval": "day"}).json()
    assert len(by_day["series"]) == 1
    assert by_day["series"][0]["bucket"].endswith("T00:00:00Z")
    assert "group" not in by_day["series"][0]  # not grouped: absent, never null


def test_usage_by_key_and_time_window(workspace: Workspace, upstream: FakeUpstream) -> None:
    _, _, router_key = _traffic(workspace, upstream)
    events = usage_events(workspace, 4)
    key_id = next(event["api_key_id"] for event in events if event.get("identity_id") == "u-1")
    report = workspace.api("GET", "/v2/usage", params={"group_by": "api_key", "key": key_id}).json()
    assert report["totals"]["requests"] == 1
    assert report["series"][0]["group"] == key_id
    past = workspace.api(
        "GET", "/v2/usage", params={"from": "2001-01-01T00:00:00Z", "to": "2001-01-02"}
    ).json()
    assert past["totals"]["requests"] == 0
    assert past["series"] == []
    assert_openai_error(
        workspace.api("GET", "/v2/usage", params={"from": "yesterday"}), 400, "invalid_request_error"
    )
    assert_openai_error(
        workspace.api("GET", "/v2/usage", params={"group_by": "colour"}), 400, "invalid_request_error"
    )
    assert_openai_error(workspace.api("GET", "/v2/usage", key=router_key), 403, "permission_error")


def test_events_pages_with_a_cursor(workspace: Workspace, upstream: FakeUpstream) -> None:
    _traffic(workspace, upstream)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = workspace.api("GET", "/v2/usage/events", params=params).json()
        assert page["object"] == "list"
        assert all(set(event) >= EVENT_FIELDS for event in page["data"])
        seen.extend(event["id"] for event in page["data"])
        cursor = page.get("next_cursor")  # absent on the last page
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 4
    bad = workspace.api("GET", "/v2/usage/events", params={"cursor": "not-a-cursor"})
    assert_openai_error(bad, 400, "invalid_request_error")


def test_csv_exports(workspace: Workspace, upstream: FakeUpstream) -> None:
    _traffic(workspace, upstream)
    series = workspace.api("GET", "/v2/usage", params={"format": "csv", "group_by": "model"})
    assert series.status_code == 200
    assert series.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(series.text)))
    assert sum(int(row["requests"]) for row in rows) == 4
    events = workspace.api("GET", "/v2/usage/events", params={"format": "csv"})
    event_rows = list(csv.DictReader(io.StringIO(events.text)))
    assert len(event_rows) == 4
    assert {"id", "router_model", "cost", "total_tokens"} <= set(event_rows[0])


def test_workspace_b_never_sees_workspace_a_usage(
    relaygate: RelaygateServer, workspace: Workspace, upstream: FakeUpstream
) -> None:
    _traffic(workspace, upstream)
    other = relaygate.new_workspace()
    assert other.api("GET", "/v2/usage").json()["totals"]["requests"] == 0
    assert other.api("GET", "/v2/usage/events").json()["data"] == []
    key_id = usage_events(workspace, 4)[0]["api_key_id"]
    assert other.api("GET", "/v2/usage", params={"key": key_id}).json()["totals"]["requests"] == 0
    assert "ws-" not in other.api("GET", "/v2/usage/events", params={"format": "csv"}).text


def test_budgets_crud_and_key_fields(workspace: Workspace) -> None:
    created = workspace.api(
        "POST", "/v2/budgets", json={"scope": "workspace", "amount_usd": "25.5", "period": "week"}
    )
    assert created.status_code == 200, created.text
    budget = created.json()
    assert budget["object"] == "budget"
    assert None not in budget.values()  # a workspace budget has no subject_id: omitted, never null
    assert "subject_id" not in budget
    assert budget["amount_usd"] == 25.5
    assert budget["spent_usd"] == 0
    changed = workspace.api("PATCH", f"/v2/budgets/{budget['id']}", json={"requests_per_minute": 10}).json()
    assert changed["requests_per_minute"] == 10
    assert changed["amount_usd"] == 25.5
    assert [item["id"] for item in workspace.api("GET", "/v2/budgets").json()["data"]] == [budget["id"]]
    assert workspace.api("DELETE", f"/v2/budgets/{budget['id']}").status_code == 200
    assert_openai_error(workspace.api("GET", f"/v2/budgets/{budget['id']}"), 404, "invalid_request_error")
    missing_subject = workspace.api("POST", "/v2/budgets", json={"scope": "api_key", "amount_usd": 1})
    assert_openai_error(missing_subject, 400, "invalid_request_error")
    unknown_key = workspace.api(
        "POST", "/v2/budgets", json={"scope": "api_key", "subject_id": "nope", "amount_usd": 1}
    )
    assert_openai_error(unknown_key, 400, "invalid_request_error")

    key = workspace.api(
        "POST",
        "/v2/api-keys",
        json={
            "name": "capped",
            "limits": {"requests_per_minute": 5, "tokens_per_minute": 1000},
            "budget": {"amount_usd": 10, "period": "month", "expires_at": "2030-01-01T00:00:00Z"},
        },
    ).json()
    assert key["limits"] == {"requests_per_minute": 5, "tokens_per_minute": 1000}
    assert key["budget"]["amount_usd"] == 10
    assert key["budget"]["spent_usd"] == 0
    assert key["budget"]["period"] == "month"
    assert key["budget"]["expires_at"].startswith("2030-01-01")
    patched = workspace.api("PATCH", f"/v2/api-keys/{key['id']}", json={"budget": None}).json()
    assert "budget" not in patched  # no budget: omitted, never null
    assert patched["limits"]["requests_per_minute"] == 5
    listed = {item["id"]: item for item in workspace.api("GET", "/v2/api-keys").json()["data"]}
    assert "budget" not in listed[key["id"]]
    assert all("limits" in item and None not in item.values() for item in listed.values())
    bad = workspace.api("POST", "/v2/api-keys", json={"limits": {"requests_per_minute": 0}})
    assert_openai_error(bad, 400, "invalid_request_error")
