"""Fixtures: a real relaygate server process, real fake upstreams, the official SDK."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support.server import RelaygateServer, Workspace, make_server
from upstream import FakeUpstream
from upstream.fixtures import (  # noqa: F401
    fake_upstream,
    fake_upstream_factory,
    fake_upstream_session,
    shared_fake_upstream,
)

ServerFactory = Callable[..., RelaygateServer]


@pytest.fixture(scope="session")
def relaygate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    """One relaygate for the session (SQLite); tests isolate themselves with workspaces."""
    server = make_server(tmp_path_factory.mktemp("relaygate")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def relaygate_factory(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start a dedicated relaygate with extra environment (``KEY="value"``); "" unsets."""
    started: list[RelaygateServer] = []

    def factory(**env: str) -> RelaygateServer:
        server = make_server(tmp_path / f"server{len(started)}", **env).start()
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def workspace(relaygate: RelaygateServer) -> Workspace:
    """A fresh workspace with its own admin key on the session server."""
    return relaygate.new_workspace()


@pytest.fixture(scope="session")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(supports_responses=False) as server:
        yield server


@pytest.fixture
def chat_model(workspace: Workspace, upstream: FakeUpstream) -> dict[str, Any]:
    return workspace.add_model(upstream, "gpt-test")
