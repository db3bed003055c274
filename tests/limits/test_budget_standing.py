"""A small budget admits a normal call without max_tokens, and when it is spent, the
refusal and the budget's API object tell the same spent and reserved figures."""

from __future__ import annotations

import re
import time
from typing import Any

import openai
import pytest

from support.server import Workspace
from upstream.fixtures import UpstreamFactory

MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]
ANSWER_WORDS = 500  # the fake counts a word as a token: $0.004 of output at $8 per 1M


def _budget(workspace: Workspace, budget_id: str) -> dict[str, Any]:
    response = workspace.api("GET", f"/v2/budgets/{budget_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _once_settled(workspace: Workspace, budget_id: str, spent_usd: float) -> dict[str, Any]:
    """The budget once the call that cost ``spent_usd`` has settled (just after its answer)."""
    deadline = time.monotonic() + 5
    while True:
        budget = _budget(workspace, budget_id)
        if budget["spent_usd"] == pytest.approx(spent_usd) and budget["reserved_usd"] == 0:
            return budget
        assert time.monotonic() < deadline, budget
        time.sleep(0.02)


def test_a_cent_a_day_key_admits_its_first_call_and_its_refusal_agrees_with_its_budget(
    workspace: Workspace, fake_upstream_factory: UpstreamFactory
) -> None:
    upstream = fake_upstream_factory(reply=" ".join(["word"] * ANSWER_WORDS))
    model = workspace.add_model(upstream, "gpt-test", input_cost="2", output_cost="8")["router_id"]
    created = workspace.api(
        "POST", "/v2/api-keys", json={"name": "tiny", "budget": {"amount_usd": "0.01", "period": "day"}}
    ).json()
    client = workspace.client(created["key"])
    assert created["budget"]["spent_usd"] == 0
    assert created["budget"]["reserved_usd"] == 0

    # No max_tokens: the reservation is 1024 completion tokens ($0.0082), not 4096 ($0.033).
    first = client.chat.completions.create(model=model, messages=MESSAGES)
    assert first.usage is not None
    assert first.usage.completion_tokens == ANSWER_WORDS
    cost_usd = (first.usage.prompt_tokens * 2 + ANSWER_WORDS * 8) / 1_000_000
    budget = _once_settled(workspace, created["budget"]["id"], cost_usd)

    # $0.004 spent and another reservation of $0.0082 do not fit in $0.01.
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model=model, messages=MESSAGES)
    assert refused.value.body["code"] == "insufficient_quota"  # type: ignore[index]
    said = re.search(r"\$(\d+\.\d{6}) spent and \$(\d+\.\d{6}) reserved", refused.value.message)
    assert said is not None, refused.value.message
    after = _budget(workspace, budget["id"])
    assert said.groups() == (f"{after['spent_usd']:.6f}", f"{after['reserved_usd']:.6f}")
    assert after["spent_usd"] == pytest.approx(cost_usd)
    (shown,) = [
        key for key in workspace.api("GET", "/v2/api-keys").json()["data"] if key["id"] == created["id"]
    ]
    assert (shown["budget"]["spent_usd"], shown["budget"]["reserved_usd"]) == (
        after["spent_usd"],
        after["reserved_usd"],
    )
