"""Model health over the API: GET /v2/models/{id}/health, the ``health`` summary of list
items and detail, the breaker's truth, periodic health checks (PATCH /v2/models/{id}) and
the /metrics gauge, against a real fake upstream that fails and recovers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import openai
import pytest

from support.server import RelaygateServer, Workspace, make_server
from support.usage_events import usage_events
from tests_shared import assert_openai_error
from upstream import FakeUpstream, Fault

CHAT = "/chat/completions"
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def health_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    server = make_server(
        tmp_path_factory.mktemp("health"),
        RELAYGATE_BREAKER_FAILURES="3",
        RELAYGATE_BREAKER_COOLDOWN="120",
        RELAYGATE_PROBES_PER_MINUTE="100000",
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def workspace(health_server: RelaygateServer) -> Workspace:
    return health_server.new_workspace()


def _call(workspace: Workspace, router_id: str) -> int:
    try:
        workspace.client().chat.completions.create(model=router_id, messages=MESSAGES)
    except openai.APIStatusError as error:
        return error.status_code
    return 200


def _health(workspace: Workspace, model_id: str) -> dict[str, Any]:
    response = workspace.api("GET", f"/v2/models/{model_id}/health")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _wait(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        time.sleep(0.1)


def _listed(workspace: Workspace, model_id: str) -> dict[str, Any]:
    listed = workspace.api("GET", "/v2/models").json()["data"]
    return dict(next(item for item in listed if item["id"] == model_id))


def test_a_model_that_fails_then_recovers(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test")
    assert _health(workspace, model["id"])["state"] == "unknown"  # no call, no check yet
    assert [_call(workspace, model["router_id"]) for _ in range(3)] == [200] * 3
    fake_upstream.script(CHAT, [Fault(status=502)] * 2)
    assert [_call(workspace, model["router_id"]) for _ in range(3)] == [502, 502, 200]
    usage_events(workspace, 6)

    health = _health(workspace, model["id"])
    recent, day = health["windows"]
    assert (recent["window"], recent["seconds"], day["window"], day["seconds"]) == ("5m", 300, "24h", 86400)
    assert (recent["calls"], recent["errors"]) == (6, 2)
    assert recent["error_rate"] == pytest.approx(2 / 6)
    assert recent["p50_ms"] is not None
    assert recent["p95_ms"] >= recent["p50_ms"]
    assert (day["calls"], day["errors"]) == (6, 2)
    assert health["state"] == "degraded"  # 33 %: above 5 %, below 50 %
    assert health["reasons"] == ["2 of 6 calls failed in the last 5 minutes (33%)"]
    assert health["last_error"]["source"] == "call"
    assert health["last_error"]["status"] == 502
    assert health["last_error"]["code"] == "upstream_error"
    assert "HTTP 502" in health["last_error"]["message"]
    assert health["last_success"]["at"] > health["last_error"]["at"]  # it answered again since
    assert health["breaker"]["state"] == "closed"
    assert health["health_check"] == {"enabled": False, "interval_seconds": 300}

    summary = _listed(workspace, model["id"])["health"]
    assert summary["state"] == "degraded"
    assert (summary["calls_5m"], summary["breaker_state"]) == (6, "closed")
    assert summary["error_rate_5m"] == pytest.approx(2 / 6)
    assert workspace.api("GET", f"/v2/models/{model['id']}").json()["health"]["state"] == "degraded"


def test_mostly_failing_calls_make_a_model_failing(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test")
    # 2 failures, then a success (the breaker needs 3 in a row), then 2 more: 4 of 5 failed.
    fake_upstream.script(CHAT, [Fault(status=502), Fault(status=500), Fault()])
    statuses = [_call(workspace, model["router_id"]) for _ in range(3)]
    fake_upstream.script(CHAT, [Fault(status=503), Fault(status=504)])
    statuses += [_call(workspace, model["router_id"]) for _ in range(2)]
    assert statuses.count(200) == 1
    usage_events(workspace, 5)
    health = _health(workspace, model["id"])
    assert health["state"] == "failing"
    assert health["reasons"] == ["4 of 5 calls failed in the last 5 minutes (80%)"]


def test_an_open_breaker_is_shown_in_health_list_and_detail(
    workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test")
    fake_upstream.script(CHAT, [Fault(status=502)] * 3)
    assert [_call(workspace, model["router_id"]) for _ in range(4)] == [502, 502, 502, 503]
    health = _health(workspace, model["id"])
    assert health["state"] == "breaker_open"
    assert health["breaker"]["state"] == "open"
    assert health["reasons"] == ["the circuit breaker is open: calls skip this upstream"]
    listed = _listed(workspace, model["id"])
    assert listed["health"]["state"] == "breaker_open"
    assert listed["health"]["breaker_state"] == "open"
    assert listed["metadata"]["circuit_breaker"]["state"] == "open"  # the list tells the breaker too
    usage_events(workspace, 4)
    last = _health(workspace, model["id"])["last_error"]
    assert (last["status"], last["code"]) == (503, "circuit_open")
    assert "circuit breaker was open" in last["message"]

    def gauge() -> str | None:
        metrics = workspace.api("GET", "/metrics").text
        line = f'relaygate_model_health{{model="{model["router_id"]}",workspace='
        return next((row for row in metrics.splitlines() if row.startswith(line)), None)

    _wait(lambda: gauge() is not None and gauge().endswith(" 4.0"), seconds=25)  # type: ignore[union-attr]


def test_periodic_health_checks_run_keep_results_and_feed_the_state(
    workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test")
    fake_upstream.reset()
    response = workspace.api(
        "PATCH", f"/v2/models/{model['id']}", json={"health_check": {"enabled": True, "interval_seconds": 30}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["health"]["health_check"]["enabled"] is True
    _wait(lambda: len(_health(workspace, model["id"])["checks"]) == 1)
    health = _health(workspace, model["id"])
    check = health["checks"][0]
    assert check["ok"] is True
    assert check["status"] == 200
    assert "answered HTTP 200" in check["message"]
    assert [(r.method, r.path) for r in fake_upstream.requests] == [
        ("GET", "/v1/models"), ("POST", "/v1/chat/completions"),
    ]  # fmt: skip
    assert fake_upstream.requests[1].json is not None
    assert fake_upstream.requests[1].json["max_tokens"] == 1
    assert health["state"] == "ok"  # no call, but a passed check
    assert health["last_success"]["source"] == "check"
    setting = health["health_check"]
    next_run, last_run = (datetime.fromisoformat(setting[name]) for name in ("next_run_at", "last_run_at"))
    assert timedelta(seconds=25) < next_run - last_run <= timedelta(seconds=30)
    time.sleep(6)  # more than a scan: the interval, not the scan, decides when the next runs
    assert len(_health(workspace, model["id"])["checks"]) == 1
    assert len(fake_upstream.requests) == 2

    # A failing upstream: switched on again, the check runs at once and fails.
    fake_upstream.script("/models", [Fault(status=500)])
    fake_upstream.script(CHAT, [Fault(status=500)])
    workspace.api(
        "PATCH", f"/v2/models/{model['id']}", json={"health_check": {"enabled": True, "interval_seconds": 60}}
    )
    _wait(lambda: len(_health(workspace, model["id"])["checks"]) == 2)
    health = _health(workspace, model["id"])
    failed = health["checks"][0]
    assert failed["ok"] is False
    assert failed["status"] == 500
    assert health["state"] == "degraded"
    assert health["reasons"] == ["the last health check failed"]
    assert health["last_error"]["source"] == "check"
    assert health["last_error"]["code"] == "health_check_failed"
    assert _listed(workspace, model["id"])["health"]["last_check"]["ok"] is False

    off = workspace.api("PATCH", f"/v2/models/{model['id']}", json={"health_check": {"enabled": False}})
    assert "next_run_at" not in off.json()["health"]["health_check"]


def test_health_check_setting_is_checked(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test")
    too_often = workspace.api(
        "PATCH", f"/v2/models/{model['id']}", json={"health_check": {"enabled": True, "interval_seconds": 10}}
    )
    body = assert_openai_error(too_often, 400, "invalid_request_error")
    assert body["error"]["param"] == "health_check.interval_seconds"
    unknown = workspace.api(
        "PATCH", f"/v2/models/{model['id']}", json={"health_check": {"enabled": True}, "x": 1}
    )
    assert_openai_error(unknown, 400, "invalid_request_error")
    missing = workspace.api("GET", "/v2/models/no-such-model/health")
    assert assert_openai_error(missing, 404, "invalid_request_error")["error"]["code"] == "model_not_found"
    router_key = workspace.new_key("router")
    refused = workspace.api("GET", f"/v2/models/{model['id']}/health", key=router_key)
    assert refused.status_code == 403


def test_another_workspace_sees_no_health(
    workspace: Workspace, health_server: RelaygateServer, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test")
    other = health_server.new_workspace()
    assert other.api("GET", f"/v2/models/{model['id']}/health").status_code == 404
    patch = {"health_check": {"enabled": True, "interval_seconds": 30}}
    assert other.api("PATCH", f"/v2/models/{model['id']}", json=patch).status_code == 404
