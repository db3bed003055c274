"""The Studio's Web search page in a real headless Chromium, against a real relaygate and a fake
search service: set a SearXNG backend, switch to Brave (its key asked for, then shown only as a
hint), see a refused address on its field, remove the backend."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from web_search.helpers import add_searcher, set_backend
from web_search.search_apis import SEARCH_KEY, FakeSearchApi
from web_search.searching_model import FakeSearchingModel

from .browser import Studio
from support.usage_events import usage_event

# A browser's waits are bounded (5 s for an expectation): run alone (scripts/test), not beside other tests.
pytestmark = pytest.mark.serial


@pytest.fixture
def search_service() -> Iterator[FakeSearchApi]:
    api = FakeSearchApi().start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def searching_model() -> Iterator[FakeSearchingModel]:
    model = FakeSearchingModel().start()
    try:
        yield model
    finally:
        model.stop()


def test_set_change_and_remove_the_search_backend(
    studio: Studio, workspace: Any, search_service: FakeSearchApi
) -> None:
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Web search").click()
    expect(page.get_by_role("heading", level=1, name="Web search")).to_be_visible()
    expect(page.get_by_text("No search backend yet")).to_be_visible()

    # SearXNG needs its address; the form says so before anything is sent.
    page.get_by_role("button", name="Save backend").click()
    expect(page.get_by_text("Enter the address of your SearXNG instance.")).to_be_visible()
    page.get_by_label("Base URL").fill(search_service.base_url)
    page.get_by_label("Searches per call").fill("2")
    page.get_by_role("button", name="Save backend").click()
    expect(page.get_by_text("Saved. Calls use this backend from now on.")).to_be_visible()
    current = page.get_by_role("region", name="Current backend")
    expect(current).to_contain_text("SearXNG")
    expect(current).to_contain_text(search_service.base_url)
    stored = workspace.api("GET", "/v2/search/backend").json()
    assert (stored["kind"], stored["base_url"], stored["max_searches"]) == (
        "searxng",
        search_service.base_url,
        2,
    )
    studio.screenshot("web-search")

    # Brave needs its key; once saved only a hint of it is ever shown.
    page.get_by_label("Search service").select_option("brave")
    page.get_by_label("Base URL").fill(search_service.brave_url)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Enter the Brave Search API key.")).to_be_visible()
    page.get_by_label("API key").fill(SEARCH_KEY)
    page.get_by_label("Price per 1000 searches (USD)").fill("5")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved. Calls use this backend from now on.")).to_be_visible()
    expect(current).to_contain_text("Brave Search")
    expect(current).to_contain_text("sea…cret")
    expect(page.get_by_label("API key")).to_have_value("")
    assert SEARCH_KEY not in page.content()

    # An address the server refuses comes back on its field.
    page.get_by_label("Search service").select_option("searxng")
    page.get_by_label("Base URL").fill("http://[::1]:notaport")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text(re.compile("base_url is not a valid URL"))).to_be_visible()

    page.get_by_role("button", name="Remove backend").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove backend").click()
    expect(page.get_by_text("The backend was removed.")).to_be_visible()
    expect(page.get_by_text("No search backend yet")).to_be_visible()
    assert workspace.api("GET", "/v2/search/backend").status_code == 404


def test_usage_shows_what_the_searches_cost(
    studio: Studio, workspace: Any, search_service: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    model = add_searcher(workspace, searching_model)
    set_backend(workspace, kind="searxng", base_url=search_service.base_url, price_per_1000="5")
    raw = workspace.client().responses.with_raw_response.create(
        model=model, input="q", tools=[{"type": "web_search"}]
    )
    usage_event(workspace, raw.headers["x-request-id"])
    studio.sign_in(workspace.admin_key)
    studio.page.get_by_role("link", name="Usage").click()
    expect(studio.page.get_by_text("$0.005 of it for 1 web search")).to_be_visible()
