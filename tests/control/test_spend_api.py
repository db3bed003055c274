"""GET /v2/spend: spend, calls, tokens, refusals, burn rate and budgets per key, identity,
model and deployment; CSV; one workspace only. The refusals are real 429s from a tiny
budget and a one-request-per-minute limit."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import openai
import pytest

from support.deployment_calls import INPUTS, create_deployment, post
from support.server import Workspace
from support.usage_events import usage_events
from tests_shared import assert_openai_error
from upstream.fixtures import UpstreamFactory

MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]
ANSWER_WORDS = 500  # the fake counts a word as a token: $0.004 of output at $8 per 1M
DAYS = 2


def _range() -> dict[str, str]:
    to = datetime.now(UTC) + timedelta(minutes=5)
    return {"from": (to - timedelta(days=DAYS)).isoformat(), "to": to.isoformat()}


def _spend(workspace: Workspace, group_by: str, **params: Any) -> dict[str, Any]:
    response = workspace.api("GET", "/v2/spend", params={"group_by": group_by, **_range(), **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _row(report: dict[str, Any], group: str | None) -> dict[str, Any]:
    (row,) = [row for row in report["data"] if row.get("group") == group]
    return dict(row)


def _traffic(workspace: Workspace, fake_upstream_factory: UpstreamFactory) -> dict[str, Any]:
    upstream = fake_upstream_factory(reply=" ".join(["word"] * ANSWER_WORDS))
    model = workspace.add_model(upstream, "gpt-test", input_cost="2", output_cost="8")["router_id"]
    cheap = workspace.add_model(upstream, "gpt-test", provider="cheap", input_cost="0", output_cost="0")
    # $0.005 a day: a call reserving 600 completion tokens ($0.0048 + its prompt) fits once.
    tiny = workspace.api(
        "POST", "/v2/api-keys", json={"name": "tiny", "budget": {"amount_usd": "0.005", "period": "day"}}
    ).json()
    slow = workspace.api(
        "POST", "/v2/api-keys", json={"name": "slow", "limits": {"requests_per_minute": 1}}
    ).json()
    identity_budget = workspace.api(
        "POST",
        "/v2/budgets",
        json={"scope": "identity", "subject_id": "u-1", "amount_usd": "1", "period": "month"},
    )
    assert identity_budget.status_code == 200, identity_budget.text
    assert (
        workspace.api("POST", "/v2/budgets", json={"amount_usd": "100", "period": "week"}).status_code == 200
    )

    first = workspace.client(tiny["key"]).chat.completions.create(
        model=model, messages=MESSAGES, max_tokens=600
    )
    assert first.usage is not None
    with pytest.raises(openai.RateLimitError) as refused:
        workspace.client(tiny["key"]).chat.completions.create(model=model, messages=MESSAGES, max_tokens=600)
    assert refused.value.body["code"] == "insufficient_quota"  # type: ignore[index]

    slow_client = workspace.client(slow["key"])
    slow_client.chat.completions.create(model=cheap["router_id"], messages=MESSAGES)
    with pytest.raises(openai.RateLimitError) as limited:
        slow_client.chat.completions.create(model=cheap["router_id"], messages=MESSAGES)
    assert limited.value.body["code"] == "rate_limit_exceeded"  # type: ignore[index]

    workspace.client().chat.completions.create(
        model=model, messages=MESSAGES, extra_body={"identity": {"id": "u-1"}}
    )
    deployment = create_deployment(workspace, cheap["router_id"])
    assert post(workspace, "invoke", {"key": deployment, "inputs": INPUTS}).status_code == 200
    usage_events(workspace, 6)
    cost = (first.usage.prompt_tokens * 2 + ANSWER_WORDS * 8) / 1_000_000
    return {
        "model": model,
        "cheap": cheap["router_id"],
        "tiny": tiny,
        "slow": slow,
        "cost": cost,
        "deployment": deployment,
    }


def test_spend_per_key_identity_model_and_deployment(
    workspace: Workspace, fake_upstream_factory: UpstreamFactory
) -> None:
    made = _traffic(workspace, fake_upstream_factory)

    by_key = _spend(workspace, "key")
    assert by_key["object"] == "spend"
    assert by_key["days"] == pytest.approx(DAYS, abs=0.01)
    tiny = _row(by_key, made["tiny"]["id"])
    assert tiny["name"].startswith("tiny (")
    assert (tiny["calls"], tiny["refusals"]) == (2, {"budget": 1, "rate_limit": 0})
    assert tiny["spend_usd"] == pytest.approx(made["cost"])
    assert tiny["burn_usd_per_day"] == pytest.approx(made["cost"] / DAYS, rel=0.01)
    budget = tiny["budget"]
    assert (budget["amount_usd"], budget["period"]) == (0.005, "day")
    assert budget["spent_usd"] == pytest.approx(made["cost"])
    assert budget["used_percent"] == pytest.approx(made["cost"] / 0.005 * 100, abs=0.1)
    assert budget["near_limit"] is True  # 80 % or more
    assert budget["projected_usd"] >= budget["spent_usd"]
    assert budget["period_end"] > budget["period_start"]
    slow = _row(by_key, made["slow"]["id"])
    assert (slow["calls"], slow["refusals"], slow["spend_usd"]) == (2, {"budget": 0, "rate_limit": 1}, 0)
    assert "budget" not in slow
    assert by_key["totals"]["refusals"] == {"budget": 1, "rate_limit": 1}
    assert by_key["totals"]["calls"] == 6
    (week,) = by_key["workspace_budgets"]
    assert (week["scope"], week["amount_usd"], week["near_limit"]) == ("workspace", 100, False)
    assert week["spent_usd"] == pytest.approx(by_key["totals"]["spend_usd"])

    by_identity = _spend(workspace, "identity")
    person = _row(by_identity, "u-1")
    assert person["calls"] == 1
    assert person["budget"]["amount_usd"] == 1
    assert person["budget"]["near_limit"] is False
    assert _row(by_identity, None)["calls"] == 5

    by_model = _spend(workspace, "model")
    assert _row(by_model, made["model"])["refusals"] == {"budget": 1, "rate_limit": 0}
    assert _row(by_model, made["cheap"])["refusals"] == {"budget": 0, "rate_limit": 1}
    assert by_model["data"][0]["group"] == made["model"]  # the costliest first
    assert all("budget" not in row for row in by_model["data"])

    by_deployment = _spend(workspace, "deployment")
    assert _row(by_deployment, made["deployment"])["calls"] == 1
    assert _row(by_deployment, None)["calls"] == 5

    # The key object tells the same refusals, counted over its budget's period.
    keys = {key["id"]: key for key in workspace.api("GET", "/v2/api-keys").json()["data"]}
    assert keys[made["tiny"]["id"]]["refusals"]["budget"] == 1
    assert keys[made["slow"]["id"]]["refusals"] == {
        "since": keys[made["slow"]["id"]]["refusals"]["since"],
        "budget": 0,
        "rate_limit": 1,
    }

    exported = workspace.api("GET", "/v2/spend", params={"group_by": "key", "format": "csv", **_range()})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="spend-by-key.csv"' in exported.headers["content-disposition"]
    rows = {row["group"]: row for row in csv.DictReader(io.StringIO(exported.text))}
    assert rows[made["tiny"]["id"]]["budget_refusals"] == "1"
    assert rows[made["tiny"]["id"]]["budget_near_limit"] == "True"
    assert rows[made["slow"]["id"]]["rate_limit_refusals"] == "1"


def test_spend_sees_one_workspace_and_checks_its_parameters(
    workspace: Workspace, fake_upstream_factory: UpstreamFactory
) -> None:
    _traffic(workspace, fake_upstream_factory)
    other = workspace.server.new_workspace()
    report = _spend(other, "model")
    assert report["data"] == []
    assert report["totals"]["calls"] == 0
    assert report["workspace_budgets"] == []
    (admin_row,) = _spend(other, "key")["data"]  # its one key, without calls
    assert admin_row["calls"] == 0

    bad_group = workspace.api("GET", "/v2/spend", params={"group_by": "color"})
    assert_openai_error(bad_group, 400, "invalid_request_error")
    backwards = workspace.api("GET", "/v2/spend", params={"from": "2026-02-01", "to": "2026-01-01"})
    assert assert_openai_error(backwards, 400, "invalid_request_error")["error"]["param"] == "from"
    router_key = workspace.new_key("router")
    assert workspace.api("GET", "/v2/spend", key=router_key).status_code == 403
