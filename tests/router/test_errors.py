"""Errors in OpenAI's shape and status codes, as the SDK expects them."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest

from support.server import Workspace
from support.usage_events import usage_event
from tests_shared import assert_openai_error
from upstream import FakeUpstream, Fault

MODEL = "fake/gpt-test"
MESSAGES: Any = [{"role": "user", "content": "hi"}]


def test_bad_key_is_401(workspace: Workspace, chat_model: dict[str, Any]) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        workspace.client("rg-not-a-real-key").chat.completions.create(model=MODEL, messages=MESSAGES)
    assert caught.value.status_code == 401
    assert "rg-not-a-real-key" not in str(caught.value.body)
    missing = workspace.server.api("POST", "/v3/router/chat/completions", json={"model": MODEL})
    assert_openai_error(missing, 401, "authentication_error")


def test_unknown_model_is_404_and_says_where_to_look(workspace: Workspace) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        workspace.client().chat.completions.create(model="nobody/nothing", messages=MESSAGES)
    body: Any = caught.value.body
    assert body["code"] == "model_not_found"
    assert "GET /v3/router/models" in body["message"]


def test_wrong_model_type_for_endpoint_is_400(workspace: Workspace, upstream: FakeUpstream) -> None:
    workspace.add_model(upstream, "embed-test", provider="emb", model_type="embedding")
    with pytest.raises(openai.BadRequestError) as caught:
        workspace.client().chat.completions.create(model="emb/embed-test", messages=MESSAGES)
    body: Any = caught.value.body
    assert body["code"] == "model_type_mismatch"
    assert "embedding model" in body["message"]
    assert "chat model" in body["message"]


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'"text"'])
def test_bad_json_is_400(workspace: Workspace, payload: bytes) -> None:
    response = workspace.api(
        "POST", "/v3/router/chat/completions", content=payload, headers={"content-type": "application/json"}
    )
    assert_openai_error(response, 400, "invalid_request_error")


def test_missing_model_is_400(workspace: Workspace) -> None:
    response = workspace.api("POST", "/v3/router/chat/completions", json={"messages": MESSAGES})
    body = assert_openai_error(response, 400, "invalid_request_error")
    assert body["error"]["param"] == "model"


def test_body_too_large_is_413(relaygate_factory: Any) -> None:
    server = relaygate_factory(RELAYGATE_MAX_BODY_BYTES="2048")
    payload = {"model": MODEL, "messages": [{"role": "user", "content": "x" * 4096}]}
    response = server.api("POST", "/v3/router/chat/completions", key=server.admin_key, json=payload)
    assert_openai_error(response, 413, "invalid_request_error")


def test_unknown_route_is_404(workspace: Workspace) -> None:
    assert_openai_error(
        workspace.api("POST", "/v3/router/nothing/here", json={}), 404, "invalid_request_error"
    )


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/v3/router/chat/completions", "POST"),
        ("PUT", "/v3/router/embeddings", "POST"),
        ("POST", "/v3/router/models", "GET"),
        ("DELETE", "/v2/router/models/fake/gpt-test", "GET"),
    ],
)
def test_a_known_route_with_the_wrong_method_is_405(
    workspace: Workspace, method: str, path: str, allowed: str
) -> None:
    response = workspace.api(method, path)
    body = assert_openai_error(response, 405, "invalid_request_error")
    assert response.headers["allow"] == allowed
    assert body["error"]["code"] == "method_not_allowed"
    assert f"({method} {path})" in body["error"]["message"]


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503])
def test_upstream_errors_pass_through_with_status_and_body(
    workspace: Workspace, fake_upstream: FakeUpstream, status: int
) -> None:
    workspace.add_model(fake_upstream, "gpt-test", provider="flaky")
    body = {
        "error": {"message": f"upstream says {status}", "type": "x", "param": None, "code": "upstream_code"}
    }
    fake_upstream.script("/chat/completions", [Fault(status=status, body=body)])
    response = workspace.api(
        "POST", "/v3/router/chat/completions", json={"model": "flaky/gpt-test", "messages": MESSAGES}
    )
    assert response.status_code == status
    assert response.json() == body


def test_an_upstreams_retry_advice_reaches_the_sdk(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    """The SDK waits as long as ``retry-after(-ms)`` says before retrying a 429 or 503 itself;
    the upstream's own x-ratelimit-* (its provider account's) stay behind."""
    workspace.add_model(fake_upstream, "gpt-test", provider="busy")
    hints = {"retry-after": "7", "retry-after-ms": "6500", "x-ratelimit-remaining-requests": "0"}
    fake_upstream.script("/chat/completions", [Fault(status=429, headers=hints)])
    with pytest.raises(openai.RateLimitError) as caught:
        workspace.client().chat.completions.create(model="busy/gpt-test", messages=MESSAGES)
    headers = caught.value.response.headers
    assert headers["retry-after"] == "7"
    assert headers["retry-after-ms"] == "6500"
    assert "x-ratelimit-remaining-requests" not in headers
    fake_upstream.script("/chat/completions", [Fault(status=503, headers={"retry-after": "a\u00e9b"})])
    response = workspace.api(
        "POST", "/v3/router/chat/completions", json={"model": "busy/gpt-test", "messages": MESSAGES}
    )
    assert response.status_code == 503, response.text
    assert "retry-after" not in response.headers, "a value that is not a delay or a date is dropped"


def test_upstream_error_on_stream_passes_through(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    workspace.add_model(fake_upstream, "gpt-test", provider="flaky")
    fake_upstream.script("/chat/completions", [Fault(status=429)])
    with pytest.raises(openai.RateLimitError):
        list(
            workspace.client().chat.completions.create(model="flaky/gpt-test", messages=MESSAGES, stream=True)
        )


def test_past_its_in_flight_limit_a_process_sheds_calls_with_a_retryable_503(
    relaygate_factory: Any, fake_upstream: FakeUpstream
) -> None:
    server = relaygate_factory(RELAYGATE_MAX_IN_FLIGHT="2")
    workspace = server.new_workspace()
    workspace.add_model(fake_upstream, "gpt-test", provider="slow")
    fake_upstream.script("/chat/completions", [Fault(delay=1.5), Fault(delay=1.5)])
    body = {"model": "slow/gpt-test", "messages": MESSAGES}
    with ThreadPoolExecutor(2) as pool:
        slow = [
            pool.submit(workspace.api, "POST", "/v3/router/chat/completions", json=body) for _ in range(2)
        ]
        time.sleep(0.7)  # both are waiting on the upstream now
        shed = workspace.api("POST", "/v3/router/chat/completions", json=body)
        assert [future.result().status_code for future in slow] == [200, 200]
    error = assert_openai_error(shed, 503, "api_error")["error"]
    assert error["code"] == "overloaded"
    assert shed.headers["retry-after"] == "1"
    assert workspace.api("POST", "/v3/router/chat/completions", json=body).status_code == 200
    event = usage_event(workspace, shed.headers["x-request-id"])
    assert (event["status"], event["error_code"]) == (503, "overloaded")


def test_unreachable_upstream_is_502(workspace: Workspace, fake_upstream_factory: Any) -> None:
    doomed = fake_upstream_factory()
    workspace.add_model(doomed, "gpt-test", provider="doomed")
    doomed.stop()
    with pytest.raises(openai.InternalServerError) as caught:
        workspace.client().chat.completions.create(model="doomed/gpt-test", messages=MESSAGES)
    assert caught.value.status_code == 502
    body: Any = caught.value.body
    assert body["code"] == "upstream_unreachable"
    assert "127.0.0.1" not in body["message"]


def test_slow_upstream_is_504(relaygate_factory: Any, fake_upstream: FakeUpstream) -> None:
    server = relaygate_factory(RELAYGATE_REQUEST_TIMEOUT="0.5")
    workspace = server.new_workspace()
    workspace.add_model(fake_upstream, "gpt-test", provider="slow")
    fake_upstream.script("/chat/completions", [Fault(status=200, delay=3)])
    with pytest.raises(openai.APIStatusError) as caught:
        workspace.client().chat.completions.create(model="slow/gpt-test", messages=MESSAGES)
    assert caught.value.status_code == 504


def test_mid_stream_failure_ends_with_an_error_event(
    workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    workspace.add_model(fake_upstream, "gpt-test", provider="cut")
    fake_upstream.script("/chat/completions", [Fault(status=200, disconnect_after=2, chunk_delay=0.2)])
    stream = workspace.client().chat.completions.create(model="cut/gpt-test", messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIError):
        list(stream)
