"""The per-upstream circuit breaker: opening, skipping, half-open probing, closing, reporting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from support.server import RelaygateServer, Workspace, make_server
from upstream import FakeUpstream, Fault

ServerFactory = Callable[..., RelaygateServer]
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
CHAT = "/chat/completions"
COOLDOWN = 1.0


@pytest.fixture(scope="module")
def breaker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    server = make_server(
        tmp_path_factory.mktemp("breaker"),
        RELAYGATE_BREAKER_FAILURES="2",
        RELAYGATE_BREAKER_COOLDOWN=str(COOLDOWN),
        RELAYGATE_PROBES_PER_MINUTE="100000",
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def workspace(breaker_server: RelaygateServer) -> Workspace:
    return breaker_server.new_workspace()


@pytest.fixture
def model(workspace: Workspace, fake_upstream: FakeUpstream) -> dict[str, Any]:
    created = workspace.add_model(fake_upstream, "gpt-test", provider=f"p{time.time_ns()}")
    fake_upstream.reset()
    return created


def _call(workspace: Workspace, model: str, **extra: Any) -> Any:
    return workspace.client().chat.completions.with_raw_response.create(
        model=model, messages=MESSAGES, extra_body=extra
    )


def _breaker(workspace: Workspace, model: dict[str, Any]) -> dict[str, Any]:
    response = workspace.api("GET", f"/v2/models/{model['id']}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == model["id"]
    metadata = dict(body["metadata"])
    breaker = metadata.pop("circuit_breaker")
    assert metadata == model["metadata"]  # the seed's fields intact, the breaker added
    return dict(breaker)


def _fail_twice(workspace: Workspace, model: dict[str, Any], upstream: FakeUpstream) -> None:
    upstream.script(CHAT, [Fault(status=503), Fault(status=503)])
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            _call(workspace, model["router_id"])


def test_breaker_opens_after_consecutive_failures_and_fails_fast(
    workspace: Workspace, model: dict[str, Any], fake_upstream: FakeUpstream
) -> None:
    assert _breaker(workspace, model)["state"] == "closed"
    _fail_twice(workspace, model, fake_upstream)
    state = _breaker(workspace, model)
    assert state["state"] == "open"
    assert state["consecutive_failures"] == 2
    assert (state["failure_threshold"], state["cooldown_s"]) == (2, COOLDOWN)
    assert 0 < state["retry_in_s"] <= COOLDOWN
    with pytest.raises(openai.APIStatusError) as caught:
        _call(workspace, model["router_id"])
    error = caught.value
    assert error.status_code == 503
    assert error.response.json()["error"]["code"] == "circuit_open"
    assert error.response.headers["retry-after"] == "1"
    assert len(fake_upstream.requests) == 2  # the third call never reached the upstream


def test_an_open_upstream_is_skipped_in_favour_of_a_fallback(
    workspace: Workspace, model: dict[str, Any], fake_upstream: FakeUpstream, fake_upstream_factory: Any
) -> None:
    backup_upstream = fake_upstream_factory(reply="from backup")
    backup = workspace.add_model(backup_upstream, "gpt-test", provider=f"b{time.time_ns()}")["router_id"]
    _fail_twice(workspace, model, fake_upstream)
    raw = _call(workspace, model["router_id"], fallbacks=[{"model": backup}])
    assert raw.parse().choices[0].message.content == "from backup"
    assert raw.headers["x-relaygate-attempts"] == "1"  # the open upstream cost no attempt
    assert raw.headers["x-relaygate-fallback"] == "true"
    assert len(fake_upstream.requests) == 2


def test_after_the_cooldown_one_probe_closes_it_again(
    workspace: Workspace, model: dict[str, Any], fake_upstream: FakeUpstream
) -> None:
    _fail_twice(workspace, model, fake_upstream)
    time.sleep(COOLDOWN + 0.1)
    assert _breaker(workspace, model)["state"] == "half_open"
    raw = _call(workspace, model["router_id"])
    assert raw.parse().choices[0].message.content
    state = _breaker(workspace, model)
    assert (state["state"], state["consecutive_failures"], state["opened_total"]) == ("closed", 0, 1)


def test_a_failed_probe_opens_it_again_at_once(
    workspace: Workspace, model: dict[str, Any], fake_upstream: FakeUpstream
) -> None:
    _fail_twice(workspace, model, fake_upstream)
    time.sleep(COOLDOWN + 0.1)
    fake_upstream.script(CHAT, [Fault(status=502)])
    with pytest.raises(openai.InternalServerError):
        _call(workspace, model["router_id"])  # the probe
    assert _breaker(workspace, model)["state"] == "open"
    with pytest.raises(openai.APIStatusError) as caught:
        _call(workspace, model["router_id"])
    assert caught.value.status_code == 503
    assert len(fake_upstream.requests) == 3


def test_connection_errors_count_and_client_errors_do_not(
    workspace: Workspace, fake_upstream_factory: Any
) -> None:
    busy = fake_upstream_factory()
    busy_model = workspace.add_model(busy, "gpt-test", provider=f"busy{time.time_ns()}")
    busy.script(CHAT, [Fault(status=429), Fault(status=400), Fault(status=429), Fault(status=404)])
    for _ in range(4):
        with pytest.raises(openai.APIStatusError):
            _call(workspace, busy_model["router_id"])
    assert _breaker(workspace, busy_model)["state"] == "closed"  # the upstream is alive

    dead = fake_upstream_factory()
    dead_model = workspace.add_model(dead, "gpt-test", provider=f"dead{time.time_ns()}")
    dead.stop()
    started = time.monotonic()
    for _ in range(2):
        with pytest.raises(openai.APIStatusError) as caught:
            _call(workspace, dead_model["router_id"])
        assert caught.value.status_code == 502
    assert _breaker(workspace, dead_model)["state"] == "open"
    with pytest.raises(openai.APIStatusError) as caught:
        _call(workspace, dead_model["router_id"])
    assert caught.value.status_code == 503
    assert time.monotonic() - started < 5


def test_a_model_without_failures_reports_a_closed_breaker(
    workspace: Workspace, model: dict[str, Any]
) -> None:
    state = _breaker(workspace, model)
    assert state == {
        "state": "closed",
        "consecutive_failures": 0,
        "opened_total": 0,
        "failure_threshold": 2,
        "cooldown_s": COOLDOWN,
    }
