"""Each round of a searching call goes through the routing policy; a round the upstream refuses
ends the call as cleanly as a plain call (an HTTP error before the answer began, an error event after)."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from .helpers import add_searcher, set_backend
from .search_apis import FakeSearchApi
from .searching_model import FakeSearchingModel
from support.server import RelaygateServer, Workspace
from support.usage_events import usage_event

SEARCH: Any = [{"type": "web_search"}]


@pytest.fixture
def with_backup(
    relaygate: RelaygateServer, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> tuple[Workspace, str, str]:
    """A workspace with the searching model twice: under providers 'fake' and 'backup'."""
    workspace = relaygate.new_workspace("rounds")
    primary = add_searcher(workspace, searching_model)
    backup = add_searcher(workspace, searching_model, provider="backup")
    set_backend(workspace, kind="searxng", base_url=search_api.base_url, cache_ttl_s=0)
    return workspace, primary, backup


def test_fallbacks_serve_any_round_and_every_attempt_is_counted(
    with_backup: tuple[Workspace, str, str], searching_model: FakeSearchingModel
) -> None:
    workspace, primary, backup = with_backup
    searching_model.reset(failures={2: 503})  # the second round's first attempt fails
    raw = workspace.client().responses.with_raw_response.create(
        model=primary, input="q", tools=SEARCH, extra_body={"fallbacks": [{"model": backup}]}
    )
    response = raw.parse()
    assert [item.type for item in response.output] == ["web_search_call", "message"]
    assert raw.headers["x-relaygate-attempts"] == "3"
    assert (raw.headers["x-relaygate-model"], raw.headers["x-relaygate-fallback"]) == (backup, "true")
    event = usage_event(workspace, raw.headers["x-request-id"])
    assert (event["attempts"], event["fallback_used"], event["router_model"]) == (3, True, backup)


def test_a_fallback_that_cannot_call_tools_is_refused_before_anything_is_sent(
    with_backup: tuple[Workspace, str, str], searching_model: FakeSearchingModel
) -> None:
    workspace, primary, _ = with_backup
    plain = add_searcher(workspace, searching_model, provider="plain", supports_tool_calling=False)
    with pytest.raises(openai.BadRequestError) as refused:
        workspace.client().responses.create(
            model=primary, input="q", tools=SEARCH, extra_body={"fallbacks": [{"model": plain}]}
        )
    assert plain in refused.value.message
    assert searching_model.requests == []


def test_a_first_round_the_upstream_refuses_is_the_clients_error(
    searching: tuple[Workspace, str], searching_model: FakeSearchingModel, search_api: FakeSearchApi
) -> None:
    workspace, model = searching
    searching_model.reset(failures={1: 429})
    with pytest.raises(openai.RateLimitError) as refused:
        workspace.client().chat.completions.create(
            model=model, messages=[{"role": "user", "content": "q"}], web_search_options={}, stream=True
        )
    assert refused.value.message.endswith("scripted failure")
    assert search_api.requests == []


def test_a_later_round_the_upstream_refuses_ends_the_stream_with_an_error(
    searching: tuple[Workspace, str], searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    searching_model.reset(failures={2: 500})
    raw = workspace.client().responses.with_raw_response.create(
        model=model, input="q", tools=SEARCH, stream=True
    )
    events = list(raw.parse())
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert "response.web_search_call.completed" in kinds
    assert kinds[-2:] == ["error", "response.failed"]
    failed: Any = events[-1]
    assert failed.response.status == "failed"
    assert "HTTP 500" in failed.response.error.message
    event = usage_event(workspace, raw.headers["x-request-id"])
    assert (event["status"], event["error_code"], event["searches"]) == (502, "upstream_error", 1)
    # A whole answer gets the upstream's error as it came.
    searching_model.reset(failures={2: 500})
    with pytest.raises(openai.InternalServerError):
        workspace.client().responses.create(model=model, input="q", tools=SEARCH)


def test_a_client_that_hangs_up_mid_search_ends_the_call_and_it_is_recorded(
    searching: tuple[Workspace, str], search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    search_api.delay_s = 2
    body = {"model": model, "input": "q", "tools": SEARCH, "stream": True}
    headers = {"authorization": f"Bearer {workspace.admin_key}"}
    with httpx.stream(
        "POST", f"{workspace.server.url}/v3/router/responses", json=body, headers=headers
    ) as response:
        request_id = response.headers["x-request-id"]
        for line in response.iter_lines():
            if "response.web_search_call.searching" in line:
                break  # the search is running: hang up
    event = usage_event(workspace, request_id)
    assert (event["status"], event["error_code"]) == (499, "client_disconnected")
    assert len(searching_model.requests) == 1  # no round after the hang-up


@pytest.mark.serial  # it bounds how long the searches took
def test_the_searches_of_one_round_run_at_once(
    searching: tuple[Workspace, str], search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace, model = searching
    searching_model.reset(parallel=3)
    search_api.delay_s = 0.6
    raw = workspace.client().responses.with_raw_response.create(model=model, input="q", tools=SEARCH)
    assert [item.type for item in raw.parse().output] == ["web_search_call"] * 3 + ["message"]
    event = usage_event(workspace, raw.headers["x-request-id"])
    assert event["searches"] == 3
    assert 600 <= event["search_ms"] < 1500  # one wait of 0.6 s, not three
