"""Fixtures: a fake search service and a fake searching model on loopback, a workspace using both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .helpers import add_searcher, set_backend
from .search_apis import FakeSearchApi
from .searching_model import FakeSearchingModel
from support.server import RelaygateServer, Workspace


@pytest.fixture(scope="session")
def search_api() -> Iterator[FakeSearchApi]:
    api = FakeSearchApi().start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="session")
def searching_model() -> Iterator[FakeSearchingModel]:
    model = FakeSearchingModel().start()
    try:
        yield model
    finally:
        model.stop()


@pytest.fixture(autouse=True)
def _fresh_fakes(search_api: FakeSearchApi, searching_model: FakeSearchingModel) -> None:
    search_api.reset()
    searching_model.reset()


@pytest.fixture
def searching(
    relaygate: RelaygateServer, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> tuple[Workspace, str]:
    """A workspace with the searching model and a SearXNG backend (the fake service): (workspace, model)."""
    workspace = relaygate.new_workspace("search")
    model = add_searcher(workspace, searching_model)
    set_backend(workspace, kind="searxng", base_url=search_api.base_url, cache_ttl_s=0)
    return workspace, model
