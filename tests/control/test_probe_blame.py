"""A failed probe blames the field it is about: a base URL with a wrong path (one that
already names an endpoint, whose 404 quotes a path with "models" in it) and a hanging
upstream are the base URL's (the connectivity step), not the model id's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from support.server import RelaygateServer, Workspace
from tests_shared import assert_openai_error
from upstream import FakeUpstream, Fault


def _create(workspace: Workspace, base_url: str) -> dict[str, Any]:
    body = {"model_type": "chat", "base_url": base_url, "api_key": "sk-up-test", "display_name": "m",
            "model_id": "gpt-test", "region": "us", "provider": "blame"}  # fmt: skip
    response = workspace.api("POST", "/v2/models/openai-like", json=body)
    return dict(assert_openai_error(response, 400, "invalid_request_error"))


@pytest.mark.parametrize("suffix", ["/models", "/chat/completions"])
def test_a_base_url_that_names_an_endpoint_is_the_base_urls_fault(
    workspace: Workspace, upstream: FakeUpstream, suffix: str
) -> None:
    body = _create(workspace, upstream.url + suffix)
    error = body["error"]
    assert (error["param"], error["code"]) == ("base_url", "connectivity_failed")
    assert f"the base URL is the API root, without the endpoint (try {upstream.url})" in error["message"]
    assert [check["name"] for check in body["validation"]["checks"]] == ["connectivity"]


def test_an_unknown_model_still_blames_the_model_id(workspace: Workspace, upstream: FakeUpstream) -> None:
    response = workspace.api(
        "POST",
        "/v2/models/openai-like",
        json={"model_type": "chat", "base_url": upstream.url, "api_key": "sk-up-test", "display_name": "m",
              "model_id": "no-such-model", "region": "us", "provider": "blame"},
    )  # fmt: skip
    assert assert_openai_error(response, 400, "invalid_request_error")["error"]["param"] == "model_id"


def test_a_hanging_upstream_fails_connectivity_with_a_timeout(
    relaygate_factory: Callable[..., RelaygateServer], fake_upstream: FakeUpstream
) -> None:
    workspace = relaygate_factory(RELAYGATE_PROBE_TIMEOUT="1").new_workspace()
    fake_upstream.script("/models", [Fault(delay=5)])
    body = _create(workspace, fake_upstream.url)
    error = body["error"]
    assert (error["param"], error["code"]) == ("base_url", "connectivity_failed")
    assert "did not answer GET /models within 1 s" in error["message"]
    checks = body["validation"]["checks"]
    assert [(check["name"], check["status"]) for check in checks] == [("connectivity", "failed")]
