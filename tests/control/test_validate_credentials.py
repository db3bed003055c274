"""POST /v2/models/validate (the Node SDK's ``models.validate``): address and key, nothing stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from support.server import Workspace, free_port, make_server
from tests_shared import assert_openai_error
from upstream import FakeUpstream, Fault

PATH = "/v2/models/validate"


def _validate(workspace: Workspace, **body: Any) -> httpx.Response:
    return workspace.api("POST", PATH, json={"provider": "openai", **body})


def _error(response: httpx.Response) -> dict[str, Any]:
    return dict(assert_openai_error(response, 400, "invalid_request_error")["error"])


def test_the_right_key_answers_200_with_an_empty_body_and_makes_no_paid_call(workspace: Workspace) -> None:
    with FakeUpstream() as upstream:
        response = _validate(workspace, api_key=upstream.api_key, base_url=upstream.url)
        assert response.status_code == 200, response.text
        assert response.content == b""
        assert "content-type" not in response.headers
        assert len(upstream.requests) == 1
        assert upstream.requests_to("/models")[0].method == "GET"


def test_a_keyless_upstream_passes_with_an_empty_key(workspace: Workspace) -> None:
    with FakeUpstream(api_key=None) as upstream:
        response = _validate(workspace, api_key="", base_url=upstream.url)
        assert response.status_code == 200, response.text
        assert "authorization" not in upstream.last_request.headers


def test_a_wrong_key_is_400_on_api_key_and_never_quoted(workspace: Workspace) -> None:
    wrong = "sk-wrong-0123456789abcdef0123456789"
    with FakeUpstream(echo_key="whole") as upstream:
        response = _validate(workspace, api_key=wrong, base_url=upstream.url)
    error = _error(response)
    assert error["param"] == "api_key"
    assert error["code"] == "authentication_failed"
    assert "rejected the API key (HTTP 401" in error["message"]
    assert wrong not in response.text
    assert [check["name"] for check in response.json()["validation"]["checks"]] == [
        "connectivity",
        "authentication",
    ]


def test_no_base_url_is_400_saying_it_is_required(workspace: Workspace, upstream: FakeUpstream) -> None:
    error = _error(_validate(workspace, api_key=upstream.api_key))
    assert error["param"] == "base_url"
    assert error["code"] == "base_url_required"
    assert "base_url is required" in error["message"]


def test_a_closed_port_is_400_on_base_url(workspace: Workspace) -> None:
    port = free_port()  # nothing listens there
    error = _error(_validate(workspace, api_key="sk-x", base_url=f"http://127.0.0.1:{port}/v1"))
    assert error["param"] == "base_url"
    assert error["code"] == "connectivity_failed"
    assert f"connection refused: nothing listens at 127.0.0.1:{port}" in error["message"]


def test_an_upstream_without_a_listing_is_not_confirmed(workspace: Workspace) -> None:
    with FakeUpstream() as upstream:
        upstream.script("/models", [Fault(status=404)])
        error = _error(_validate(workspace, api_key=upstream.api_key, base_url=upstream.url))
        assert error["param"] == "base_url"
        assert error["code"] == "authentication_unverified"
        assert upstream.requests_to("/chat/completions") == []  # no paid call to find out


def test_nothing_is_stored(workspace: Workspace, upstream: FakeUpstream) -> None:
    before = workspace.api("GET", "/v2/models").json()
    assert _validate(workspace, api_key=upstream.api_key, base_url=upstream.url).status_code == 200
    _error(_validate(workspace, api_key="sk-wrong", base_url=upstream.url))
    assert workspace.api("GET", "/v2/models").json() == before == {"object": "list", "data": []}


def test_validate_is_not_taken_for_a_model_id(workspace: Workspace, chat_model: dict[str, Any]) -> None:
    response = workspace.api("POST", f"/v2/models/{chat_model['id']}/validate")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == chat_model["id"]


def test_a_router_key_is_403_and_no_key_401(workspace: Workspace, upstream: FakeUpstream) -> None:
    body = {"provider": "openai", "api_key": upstream.api_key, "base_url": upstream.url}
    router_key = workspace.new_key("router")
    assert_openai_error(workspace.api("POST", PATH, key=router_key, json=body), 403, "permission_error")
    anonymous = httpx.post(f"{workspace.server.url}{PATH}", json=body)
    assert_openai_error(anonymous, 401, "authentication_error")


def test_the_openapi_document_shows_a_200_without_content(workspace: Workspace) -> None:
    document = httpx.get(f"{workspace.server.url}/openapi.json").json()
    operation = document["paths"][PATH]["post"]
    assert "content" not in operation["responses"]["200"]
    assert operation["requestBody"]["required"] is True


def test_ssrf_rules_and_the_probe_quota_apply(tmp_path: Path, upstream: FakeUpstream) -> None:
    body = {"provider": "openai", "api_key": upstream.api_key, "base_url": upstream.url}
    strict = make_server(tmp_path / "strict", RELAYGATE_ALLOW_PRIVATE_UPSTREAMS="").start()
    try:
        refused = strict.new_workspace().api("POST", PATH, json=body)
        assert assert_openai_error(refused, 400, "invalid_request_error")["error"]["code"] == (
            "upstream_not_allowed"
        )
    finally:
        strict.stop()
    counted = make_server(tmp_path / "counted", RELAYGATE_PROBES_PER_MINUTE="1").start()
    try:
        workspace = counted.new_workspace()
        assert workspace.api("POST", PATH, json=body).status_code == 200
        assert_openai_error(workspace.api("POST", PATH, json=body), 429, "rate_limit_error")
    finally:
        counted.stop()
