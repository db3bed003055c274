"""Limits in one process are exact: the call over the threshold gets OpenAI's 429 with
its headers, and budgets never let calls overspend."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest

from support.server import Workspace
from support.usage_events import usage_events
from upstream import FakeUpstream

MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]
PRICES = {"input_cost": "1", "output_cost": "2"}  # 1,000 and 2,000 nano-USD per token


def _key(workspace: Workspace, **fields: Any) -> str:
    response = workspace.api("POST", "/v2/api-keys", json={"name": "limited", **fields})
    assert response.status_code == 200, response.text
    return str(response.json()["key"])


def _call(workspace: Workspace, key: str, model: str, **extra: Any) -> Any:
    return workspace.client(key).chat.completions.create(model=model, messages=MESSAGES, **extra)


def test_requests_per_minute_refuses_exactly_the_call_over_the_limit(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    key = _key(workspace, limits={"requests_per_minute": 3})
    client = workspace.client(key)
    for left in (2, 1, 0):  # every answer says where the key stands, as OpenAI's do
        raw = client.chat.completions.with_raw_response.create(model=model, messages=MESSAGES)
        assert raw.headers["x-ratelimit-limit-requests"] == "3"
        assert raw.headers["x-ratelimit-remaining-requests"] == str(left)
        assert raw.headers["x-ratelimit-reset-requests"].endswith("s")
        assert "x-ratelimit-limit-tokens" not in raw.headers
    with pytest.raises(openai.RateLimitError) as caught:
        _call(workspace, key, model)
    error, headers = caught.value, caught.value.response.headers
    assert error.body["type"] == "rate_limit_error"  # type: ignore[index]
    assert error.body["code"] == "rate_limit_exceeded"  # type: ignore[index]
    assert "3 requests per minute" in error.message
    assert headers["x-ratelimit-limit-requests"] == "3"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"].endswith("s")
    assert 1 <= int(headers["retry-after"]) <= 20  # one request comes back every 20 s
    # Another key of the same workspace is not affected; the refusal was recorded.
    _call(workspace, workspace.admin_key, model)
    statuses = [event["status"] for event in usage_events(workspace, 5)]
    assert statuses.count(429) == 1


@pytest.mark.serial  # two calls in a row against a token bucket refilling as the test runs
def test_tokens_per_minute_refuses_once_the_tokens_are_used(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    per_call = _call(workspace, workspace.admin_key, model).usage.total_tokens
    # Two calls fit (a call is admitted while the bucket holds a token); after them the
    # bucket is half a call below empty, which takes about 20 s to refill: no race with a
    # slow machine.
    limit = per_call + per_call // 2
    key = _key(workspace, limits={"tokens_per_minute": limit})
    _call(workspace, key, model)
    _call(workspace, key, model)
    with pytest.raises(openai.RateLimitError) as caught:
        _call(workspace, key, model)
    headers = caught.value.response.headers
    assert headers["x-ratelimit-limit-tokens"] == str(limit)
    assert headers["x-ratelimit-remaining-tokens"] == "0"
    assert "x-ratelimit-limit-requests" not in headers


def test_the_most_restrictive_limit_wins(workspace: Workspace, upstream: FakeUpstream) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    key = _key(workspace, limits={"requests_per_minute": 100})
    response = workspace.api("POST", "/v2/budgets", json={"scope": "workspace", "requests_per_minute": 2})
    assert response.status_code == 200, response.text
    _call(workspace, key, model)
    _call(workspace, workspace.admin_key, model)  # the workspace limit counts every key
    with pytest.raises(openai.RateLimitError) as caught:
        _call(workspace, key, model)
    assert "this workspace" in caught.value.message
    assert caught.value.response.headers["x-ratelimit-limit-requests"] == "2"
    # Deleting the limit lifts it at once.
    assert workspace.api("DELETE", f"/v2/budgets/{response.json()['id']}").status_code == 200
    _call(workspace, key, model)


def test_identity_limits_apply_to_that_identity_only(workspace: Workspace, upstream: FakeUpstream) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    body = {"scope": "identity", "subject_id": "user-1", "requests_per_minute": 1}
    assert workspace.api("POST", "/v2/budgets", json=body).status_code == 200
    _call(workspace, workspace.admin_key, model, extra_body={"identity": {"id": "user-1"}})
    with pytest.raises(openai.RateLimitError):
        _call(workspace, workspace.admin_key, model, extra_body={"identity": {"id": "user-1"}})
    _call(workspace, workspace.admin_key, model, extra_body={"identity": {"id": "user-2"}})
    _call(workspace, workspace.admin_key, model)


def _reservation_nano(upstream: FakeUpstream, max_tokens: int) -> int:
    sent = upstream.requests_to("/chat/completions")[-1].body
    return math.ceil(len(sent) * 1000 + max_tokens * 2000)


def test_budget_refuses_the_call_that_could_overspend(
    workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test", **PRICES)["router_id"]
    _call(workspace, workspace.admin_key, model, max_tokens=10)
    (first,) = usage_events(workspace, 1)
    cost, reservation = first["cost_nano"], _reservation_nano(fake_upstream, 10)
    assert 0 < cost <= reservation
    # Room for two calls' real cost plus one reservation, minus one nano-USD: the third
    # call's reservation cannot fit any more.
    amount = (2 * cost + reservation - 1) / 1e9
    key = _key(workspace, budget={"amount_usd": f"{amount:.9f}", "period": "day"})
    _call(workspace, key, model, max_tokens=10)
    _call(workspace, key, model, max_tokens=10)
    with pytest.raises(openai.RateLimitError) as caught:
        _call(workspace, key, model, max_tokens=10)
    assert caught.value.body["type"] == "insufficient_quota"  # type: ignore[index]
    assert "daily budget" in caught.value.message
    assert int(caught.value.response.headers["retry-after"]) <= 86_400
    usage_events(workspace, 4)
    listed = workspace.api("GET", "/v2/api-keys").json()["data"]
    (limited,) = [entry for entry in listed if "budget" in entry]
    assert limited["budget"]["spent_usd"] == pytest.approx(2 * cost / 1e9)
    assert limited["budget"]["amount_usd"] == pytest.approx(amount)
    assert limited["budget"]["period"] == "day"


def test_concurrent_calls_cannot_overspend_a_budget(workspace: Workspace, upstream: FakeUpstream) -> None:
    model = workspace.add_model(upstream, "gpt-test", **PRICES)["router_id"]
    _call(workspace, workspace.admin_key, model, max_tokens=10)
    reservation = _reservation_nano(upstream, 10)
    amount_nano = 5 * reservation
    key = _key(workspace, budget={"amount_usd": f"{amount_nano / 1e9:.9f}", "period": "total"})

    def attempt(_: int) -> int:
        try:
            _call(workspace, key, model, max_tokens=10)
        except openai.RateLimitError:
            return 429
        return 200

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, range(40)))
    assert 5 <= outcomes.count(200) < 40
    events = usage_events(workspace, 41)
    spent = sum(event["cost_nano"] for event in events if event["api_key_id"] != events[-1]["api_key_id"])
    assert spent <= amount_nano
