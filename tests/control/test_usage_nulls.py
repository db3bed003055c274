"""/v2/usage answers: an optional field without a value is omitted, never null; the CSV keeps empty cells."""

from __future__ import annotations

import csv
import io
from typing import Any

import openai
import pytest

from support.nulls import null_paths
from support.server import RelaygateServer, Workspace
from support.usage_events import usage_events
from upstream import FakeUpstream, Fault

MESSAGES: Any = [{"role": "user", "content": "hello"}]
GROUPS = (None, "model", "api_key", "identity", "endpoint", "status")


def _assert_no_null(answer: Any, what: str) -> None:
    found = sorted(set(null_paths(answer)))
    assert found == [], f"null in {what}, where an optional field must be absent: {found}"


def _calls(workspace: Workspace, upstream: FakeUpstream) -> list[dict[str, Any]]:
    """A plain call, a streamed one with an identity, an upstream failure and an unknown model."""
    model = workspace.add_model(upstream, "gpt-test", provider="nulls", input_cost="1", output_cost="4")
    client = workspace.client()
    client.chat.completions.create(model=model["router_id"], messages=MESSAGES)
    stream = client.chat.completions.create(
        model=model["router_id"], messages=MESSAGES, stream=True, extra_body={"identity": {"id": "u-1"}}
    )
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    upstream.script("/chat/completions", [Fault(status=400)])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=model["router_id"], messages=MESSAGES)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nobody/nothing", messages=MESSAGES)
    return usage_events(workspace, 4)


def _event_pages(workspace: Workspace) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        response = workspace.api("GET", "/v2/usage/events", params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1].get("next_cursor")
        if cursor is None:
            return pages


def test_events_pages_send_no_null(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    _calls(workspace, fake_upstream)
    pages = _event_pages(workspace)
    for page in pages:
        _assert_no_null(page, "a /v2/usage/events page")
    assert len(pages) == 4
    assert "next_cursor" not in pages[-1], "the last page has no next page: the cursor is absent"
    events = [page["data"][0] for page in pages]
    plain = next(event for event in events if event["status"] == 200 and not event["stream"])
    streamed = next(event for event in events if event["stream"])
    for absent in ("error_code", "request_body", "response_body", "identity_id", "thread_id", "metadata"):
        assert absent not in plain
    assert plain["prices"] == {"input": "1", "output": "4"}, "no image price: absent"
    assert streamed["identity_id"] == "u-1"
    failed = [event for event in events if event["status"] >= 400]
    assert len(failed) == 2
    assert any(event["error_code"] == "model_not_found" for event in failed)


def test_usage_reports_send_no_null(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    _calls(workspace, fake_upstream)
    for interval in ("hour", "day"):
        for group_by in GROUPS:
            params = {"interval": interval, **({"group_by": group_by} if group_by else {})}
            response = workspace.api("GET", "/v2/usage", params=params)
            assert response.status_code == 200, response.text
            report = response.json()
            _assert_no_null(report, f"/v2/usage?{params}")
            assert report["totals"]["requests"] == 4
            if group_by is None:
                assert "group_by" not in report
                assert all("group" not in row for row in report["series"])
    by_identity = workspace.api("GET", "/v2/usage", params={"group_by": "identity"}).json()
    assert sorted(row.get("group", "") for row in by_identity["series"]) == ["", "u-1"]
    empty = workspace.api("GET", "/v2/usage", params={"from": "2001-01-01", "to": "2001-01-02"}).json()
    _assert_no_null(empty, "/v2/usage of a window without calls")
    assert "latency_ms_avg" not in empty["totals"], "no calls, no average: absent"


def test_csv_exports_keep_empty_cells(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    _calls(workspace, fake_upstream)
    events = workspace.api("GET", "/v2/usage/events", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(events.text)))
    assert len(rows) == 4
    assert all(set(row) == set(rows[0]) for row in rows), "every row has every column"
    assert sorted(row["error_code"] == "" for row in rows) == [False, False, True, True]
    series = workspace.api("GET", "/v2/usage", params={"format": "csv"})
    assert [row["group"] for row in csv.DictReader(io.StringIO(series.text))] == [""]


def test_openapi_shows_usage_optional_fields_without_null(relaygate: RelaygateServer) -> None:
    document = relaygate.api("GET", "/openapi.json").json()
    schemas = document["components"]["schemas"]
    event = schemas["UsageEvent"]
    assert "error_code" not in event["required"]
    assert event["properties"]["error_code"] == {"type": "string", "title": "Error Code"}
    assert "null" not in str(schemas["UsageEventList"]["properties"]["next_cursor"])
    assert "null" not in str(schemas["UsageRow"]["properties"]["group"])
    assert {"from", "to", "totals", "series"} <= set(schemas["UsageReport"]["required"])
    answers = document["paths"]["/v2/usage/events"]["get"]["responses"]["200"]["content"]
    assert set(answers) == {"application/json", "text/csv"}
