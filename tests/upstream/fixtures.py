"""pytest fixtures for the fake upstream. Import them into a conftest:

    from upstream.fixtures import *  # noqa: F403

(or name them: fake_upstream, fake_upstream_factory, fake_upstream_session, shared_fake_upstream).

- `fake_upstream`: a fresh server per test (default settings), stopped afterwards.
- `fake_upstream_factory`: `factory(**kwargs) -> started FakeUpstream`; all stopped after the test.
- `fake_upstream_session`: one server for the whole session (`supports_responses=True`).
- `shared_fake_upstream`: that session server, reset (requests, scripts) before the test; cheaper
  than a fresh server when a suite has hundreds of tests, but tests must not change its settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .server import FakeUpstream

__all__ = ["fake_upstream", "fake_upstream_factory", "fake_upstream_session", "shared_fake_upstream"]

UpstreamFactory = Callable[..., FakeUpstream]


@pytest.fixture
def fake_upstream_factory() -> Iterator[UpstreamFactory]:
    started: list[FakeUpstream] = []

    def factory(**kwargs: Any) -> FakeUpstream:
        upstream = FakeUpstream(**kwargs).start()
        started.append(upstream)
        return upstream

    try:
        yield factory
    finally:
        for upstream in started:
            upstream.stop()


@pytest.fixture
def fake_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="session")
def fake_upstream_session() -> Iterator[FakeUpstream]:
    with FakeUpstream(supports_responses=True) as upstream:
        yield upstream


@pytest.fixture
def shared_fake_upstream(fake_upstream_session: FakeUpstream) -> FakeUpstream:
    fake_upstream_session.reset()
    return fake_upstream_session
