"""``/v2/search/backend``: a workspace's search backend set, read and removed; its key sealed and
never shown again; its address held to the SSRF rules of upstreams."""

from __future__ import annotations

from typing import Any

from relaygate.crypto import MasterKey

from .helpers import add_searcher, set_backend
from .search_apis import SEARCH_KEY, FakeSearchApi
from .searching_model import FakeSearchingModel
from support.server import RelaygateServer, Workspace

PATH = "/v2/search/backend"


def test_a_backend_is_set_read_changed_and_removed(workspace: Workspace, search_api: FakeSearchApi) -> None:
    missing = workspace.api("GET", PATH)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "search_backend_not_configured"
    assert "PUT /v2/search/backend" in missing.json()["error"]["message"]
    created = set_backend(workspace, kind="searxng", base_url=search_api.base_url + "/")
    assert created == {
        "object": "search.backend",
        "id": created["id"],
        "kind": "searxng",
        "base_url": search_api.base_url,
        "max_searches": 3,
        "timeout_s": 10.0,
        "cache_ttl_s": 300,
        "prefer_relaygate": False,
        "created_at": created["created_at"],
        "updated_at": created["updated_at"],
    }
    assert workspace.api("GET", PATH).json() == created
    changed = set_backend(
        workspace,
        kind="brave",
        base_url=search_api.brave_url,
        api_key=SEARCH_KEY,
        max_searches=5,
        timeout_s=2.5,
        cache_ttl_s=0,
        price_per_1000="5.50",
        prefer_relaygate=True,
    )
    assert changed["id"] == created["id"]
    assert changed["created_at"] == created["created_at"]
    assert (changed["kind"], changed["max_searches"], changed["price_per_1000"]) == ("brave", 5, "5.5")
    assert changed["api_key_hint"] == "sea…cret"
    deleted = workspace.api("DELETE", PATH)
    assert deleted.json() == {"object": "search.backend", "deleted": True}
    assert workspace.api("DELETE", PATH).status_code == 404


def test_the_key_is_never_shown_again_nor_logged(
    relaygate: RelaygateServer, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    workspace = relaygate.new_workspace("keys")
    model = add_searcher(workspace, searching_model)
    set_backend(workspace, kind="tavily", base_url=search_api.base_url, api_key=SEARCH_KEY)
    search_api.fail_status = 500  # a failure is logged: without the key
    workspace.client().responses.create(model=model, input="q", tools=[{"type": "web_search"}])
    assert search_api.requests[0].headers["authorization"] == f"Bearer {SEARCH_KEY}"
    for response in (workspace.api("GET", PATH), workspace.api("GET", "/v2/usage/events")):
        assert SEARCH_KEY not in response.text
        assert SEARCH_KEY[:12] not in response.text
    assert "web search on the tavily backend" in relaygate.log()
    assert SEARCH_KEY not in relaygate.log()


def test_a_stored_key_is_never_sent_to_a_new_address(workspace: Workspace, search_api: FakeSearchApi) -> None:
    set_backend(workspace, kind="tavily", base_url=search_api.base_url, api_key=SEARCH_KEY)
    moved = workspace.api("PUT", PATH, json={"kind": "tavily", "base_url": "https://api.tavily.com"})
    assert moved.status_code == 400
    assert (moved.json()["error"]["param"], moved.json()["error"]["code"]) == ("api_key", "api_key_required")
    kept = set_backend(workspace, kind="tavily", base_url=search_api.base_url, max_searches=1)
    assert kept["api_key_hint"] == "sea…cret"  # same address: the stored key stays
    keyless = set_backend(workspace, kind="searxng", base_url=search_api.base_url, api_key="")
    assert "api_key_hint" not in keyless


def test_what_a_backend_needs_is_checked(workspace: Workspace) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"kind": "searxng"}, "base_url"),
        ({"kind": "brave"}, "api_key"),
        ({"kind": "bing", "base_url": "https://x.example"}, "kind"),
        ({"kind": "searxng", "base_url": "ftp://x.example"}, "base_url"),
        ({"kind": "searxng", "base_url": "https://x.example", "max_searches": 0}, "max_searches"),
        ({"kind": "searxng", "base_url": "https://x.example", "timeout_s": 120}, "timeout_s"),
        ({"kind": "searxng", "base_url": "https://x.example", "price_per_1000": -1}, "price_per_1000"),
        ({"kind": "searxng", "base_url": "https://x.example", "extra": 1}, "extra"),
    ]
    for body, param in cases:
        response = workspace.api("PUT", PATH, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["param"] == param, body


def test_only_admin_keys_manage_the_backend(workspace: Workspace) -> None:
    router_key = workspace.new_key("router")
    assert workspace.api("GET", PATH, key=router_key).status_code == 403
    assert workspace.api("PUT", PATH, key=router_key, json={"kind": "searxng"}).status_code == 403


def test_a_private_backend_needs_the_operators_allowlist(
    relaygate_factory: Any, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    strict = relaygate_factory(RELAYGATE_ALLOW_PRIVATE_UPSTREAMS="").new_workspace("ssrf")
    refused = strict.api("PUT", PATH, json={"kind": "searxng", "base_url": search_api.base_url})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (error["param"], error["code"]) == ("base_url", "upstream_not_allowed")
    assert "RELAYGATE_UPSTREAM_ALLOWLIST" in error["message"]
    allowed = relaygate_factory(
        RELAYGATE_ALLOW_PRIVATE_UPSTREAMS="", RELAYGATE_UPSTREAM_ALLOWLIST="127.0.0.1"
    )
    workspace = allowed.new_workspace("allowlisted")
    model = add_searcher(workspace, searching_model)
    set_backend(workspace, kind="searxng", base_url=search_api.base_url)
    response = workspace.client().responses.create(model=model, input="q", tools=[{"type": "web_search"}])
    assert response.output[0].type == "web_search_call"
    assert response.output[0].status == "completed"


def test_a_master_key_rotation_reseals_the_backends_key(
    relaygate_factory: Any, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    old, new = MasterKey.generate_text(), MasterKey.generate_text()
    server = relaygate_factory(RELAYGATE_MASTER_KEY=old)
    workspace = server.new_workspace("rotation")
    model = add_searcher(workspace, searching_model)
    set_backend(workspace, kind="tavily", base_url=search_api.base_url, api_key=SEARCH_KEY)
    server.stop()
    server.env.update(RELAYGATE_MASTER_KEY=new, RELAYGATE_MASTER_KEY_PREVIOUS=old)
    server.start()
    result = server.cli("rotate-master-key")
    assert "re-encrypted 2 stored secret(s)" in result.stdout  # the model's and the backend's
    server.stop()
    del server.env["RELAYGATE_MASTER_KEY_PREVIOUS"]
    server.start()  # only the new key now: the backend's key opens, so it was resealed
    response = workspace.client().responses.create(model=model, input="q", tools=[{"type": "web_search"}])
    assert response.output[0].status == "completed"
    assert search_api.requests[-1].headers["authorization"] == f"Bearer {SEARCH_KEY}"


def test_a_workspace_sees_and_uses_only_its_own_backend(
    relaygate: RelaygateServer, search_api: FakeSearchApi, searching_model: FakeSearchingModel
) -> None:
    owner, other = relaygate.new_workspace("owner"), relaygate.new_workspace("other")
    set_backend(owner, kind="tavily", base_url=search_api.base_url, api_key=SEARCH_KEY)
    assert other.api("GET", PATH).status_code == 404
    assert other.api("DELETE", PATH).status_code == 404
    model = add_searcher(other, searching_model)
    refused = other.api(
        "POST", "/v3/router/responses", json={"model": model, "input": "q", "tools": [{"type": "web_search"}]}
    )
    assert refused.json()["error"]["code"] == "search_backend_not_configured"
    assert owner.api("GET", PATH).json()["kind"] == "tavily"
