"""First-run stumbles: the probe says what is wrong and where, and keyless upstreams just work."""

from __future__ import annotations

from typing import Any

from support.server import Workspace, free_port
from tests_shared import assert_openai_error
from upstream import FakeUpstream, Fault


def _create(workspace: Workspace, base_url: str, **fields: Any) -> dict[str, Any]:
    body = {"model_type": "chat", "base_url": base_url, "api_key": "sk-up-test", "display_name": "m",
            "model_id": "gpt-test", "region": "us", "provider": "probe", **fields}  # fmt: skip
    response = workspace.api("POST", "/v2/models/openai-like", json=body)
    return dict(assert_openai_error(response, 400, "invalid_request_error")["error"])


def test_a_base_url_without_v1_fails_connectivity_and_suggests_v1(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    error = _create(workspace, upstream.base_url)
    assert error["param"] == "base_url"
    assert error["code"] == "connectivity_failed"
    assert (
        f"HTTP 404 at {upstream.base_url}/models and at {upstream.base_url}/chat/completions"
        in error["message"]
    )
    assert f"try {upstream.base_url}/v1" in error["message"]


def test_an_upstream_without_a_listing_still_passes_with_one_minimal_call(workspace: Workspace) -> None:
    with FakeUpstream() as upstream:
        upstream.script("/models", [Fault(status=404)])
        model = workspace.add_model(upstream, "gpt-test")
        checks = {check["name"]: check for check in model["metadata"]["validation"]["checks"]}
        assert checks["connectivity"]["status"] == "passed"
        assert checks["authentication"]["message"].endswith("on POST /chat/completions")
        assert len(upstream.requests_to("/chat/completions")) == 1  # the call that told, not a second


def test_an_unknown_model_is_not_taken_for_a_wrong_path(workspace: Workspace, upstream: FakeUpstream) -> None:
    error = _create(workspace, upstream.url, model_type="embedding", model_id="no-such-model")
    assert error["param"] == "model_id"
    assert "as an embedding model" in error["message"]


def test_connection_refused_says_so(workspace: Workspace) -> None:
    port = free_port()  # nothing listens there
    error = _create(workspace, f"http://127.0.0.1:{port}/v1")
    assert error["param"] == "base_url"
    assert f"connection refused: nothing listens at 127.0.0.1:{port}" in error["message"]


def test_a_name_that_does_not_resolve_says_so(workspace: Workspace) -> None:
    error = _create(workspace, "http://relaygate-probe-test.invalid/v1")
    assert error["param"] == "base_url"
    assert "the host name relaygate-probe-test.invalid does not resolve" in error["message"]


def test_a_tls_failure_says_so(workspace: Workspace, upstream: FakeUpstream) -> None:
    error = _create(workspace, f"https://127.0.0.1:{upstream.port}/v1")  # the fake speaks plain HTTP
    assert error["param"] == "base_url"
    assert "the TLS handshake failed" in error["message"]


def test_a_keyless_upstream_needs_no_api_key_and_region_has_a_default(workspace: Workspace) -> None:
    with FakeUpstream(api_key=None) as upstream:
        body = {
            "model_type": "chat",
            "base_url": upstream.url,
            "display_name": "local",
            "model_id": "gpt-test",
        }
        response = workspace.api("POST", "/v2/models/openai-like", json=body)
        assert response.status_code == 200, response.text
        model = response.json()
        assert model["configuration"]["region"] == "default"
        checks = {check["name"]: check["message"] for check in model["metadata"]["validation"]["checks"]}
        assert checks["authentication"].startswith("the upstream needs no API key")
        chat = {"model": model["router_id"], "messages": [{"role": "user", "content": "hi"}]}
        assert workspace.api("POST", "/v3/router/chat/completions", json=chat).status_code == 200
        assert upstream.requests, "the probe and the call reached the upstream"
        assert all("authorization" not in request.headers for request in upstream.requests)


def test_a_patch_without_region_keeps_it(workspace: Workspace, upstream: FakeUpstream) -> None:
    model = workspace.add_model(upstream, "gpt-test", region="eu")
    patch = {"display_name": "renamed", "model_type": "chat"}
    response = workspace.api("PATCH", f"/v2/models/openai-like/{model['id']}", json=patch)
    assert response.status_code == 200, response.text
    assert response.json()["configuration"]["region"] == "eu"
