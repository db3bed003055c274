"""Fixtures for the routing tests: a relaygate whose retry backoff runs in milliseconds."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from support.server import RelaygateServer, Workspace, make_server
from upstream import FakeUpstream

ROUTING_ENV = {
    "RELAYGATE_RETRY_BACKOFF_BASE": "0.01",  # 10 ms, 20 ms, 40 ms ... instead of 1 s, 2 s, 4 s
    "RELAYGATE_RETRY_BACKOFF_CAP": "2",  # a Retry-After above 2 s moves on at once
    "RELAYGATE_STREAM_IDLE_TIMEOUT": "1.5",
    "RELAYGATE_PROBES_PER_MINUTE": "100000",  # every test adds models to one workspace per module
}


@pytest.fixture(scope="session")
def routing_relaygate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    server = make_server(tmp_path_factory.mktemp("routing"), **ROUTING_ENV).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def routed(routing_relaygate: RelaygateServer) -> Workspace:
    """A workspace of the fast-backoff server for one test module (tests add their own models)."""
    return routing_relaygate.new_workspace()


ModelMaker = Callable[..., tuple[str, FakeUpstream]]


@pytest.fixture
def make_model(routed: Workspace, fake_upstream_factory: Callable[..., FakeUpstream]) -> ModelMaker:
    """``make_model("a")`` -> ("a-1f3e.../gpt-test", its own fake upstream answering "from a").

    Each call makes a new model (a unique provider), so breakers and cache entries never
    carry over from one test to another.
    """

    def make(label: str, model_type: str = "chat", **fields: Any) -> tuple[str, FakeUpstream]:
        upstream = fake_upstream_factory(reply=f"from {label}")
        model_id = {"chat": "gpt-test", "embedding": "embed-test", "stt": "whisper-test"}[model_type]
        provider = f"{label}-{uuid.uuid4().hex[:8]}"
        model = routed.add_model(upstream, model_id, provider=provider, model_type=model_type, **fields)
        upstream.reset()  # forget the probe made when the model was added
        return str(model["router_id"]), upstream

    return make
