"""SIGTERM in the middle of load loses no usage event: every call that got an answer
is stored once the server has exited."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from support.server import RelaygateServer
from upstream import FakeUpstream

CLIENTS = 16


def _hammer(url: str, key: str, model: str, stop: threading.Event, answered: list[int]) -> None:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            try:
                response = client.post(url, json=body, headers={"authorization": f"Bearer {key}"})
            except httpx.TransportError:
                return  # the server stopped taking connections: this call was never answered
            answered.append(response.status_code)


def test_sigterm_during_load_loses_no_usage_event(
    relaygate_factory: Callable[..., RelaygateServer], upstream: FakeUpstream
) -> None:
    # A large batch and a long interval: whatever is queued when SIGTERM comes must be
    # written by the shutdown itself.
    server = relaygate_factory(RELAYGATE_USAGE_BATCH_SIZE="5000", RELAYGATE_USAGE_FLUSH_INTERVAL="30")
    workspace = server.new_workspace()
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    stop, answered = threading.Event(), list[int]()
    threads = [
        threading.Thread(
            target=_hammer,
            args=(f"{server.url}/v3/router/chat/completions", workspace.admin_key, model, stop, answered),
        )
        for _ in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(answered) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    # uvicorn re-raises the signal once its graceful shutdown (lifespan included) is over.
    assert server.process.wait(timeout=60) in (0, -signal.SIGTERM), server.log()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    server.process = None

    assert len(answered) >= 300
    assert set(answered) == {200}
    server.start()
    response = workspace.api("GET", "/v2/usage", params={"from": "2000-01-01T00:00:00Z"})
    assert response.status_code == 200, response.text
    assert response.json()["totals"]["requests"] == len(answered)
    assert "dropped" not in server.log()
