"""Broken and hostile upstreams: each becomes a clean error for the client and a usage
event, and leaves no connection or handler behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from security.helpers import open_sockets, usage_rows

from support.server import RelaygateServer, Workspace, make_server
from upstream import FakeUpstream
from upstream.faults import Fault

LIMITS = {
    "RELAYGATE_STREAM_MAX_SECONDS": "2",
    "RELAYGATE_MAX_UPSTREAM_BODY_BYTES": "200000",
    "RELAYGATE_REQUEST_TIMEOUT": "3",
}


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    server = make_server(Path(tmp_path_factory.mktemp("bounded")), **LIMITS).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hostile() -> Iterator[FakeUpstream]:
    with FakeUpstream(max_stream_seconds=20) as server:
        yield server


@pytest.fixture(scope="module")
def setup(bounded: RelaygateServer, hostile: FakeUpstream) -> tuple[Workspace, str]:
    workspace = bounded.new_workspace()
    model = workspace.add_model(hostile, "gpt-test")
    return workspace, model["router_id"]


def _body(router_id: str, stream: bool) -> dict[str, Any]:
    return {"model": router_id, "messages": [{"role": "user", "content": "hi"}], "stream": stream}


HUGE = b'{"pad": "' + b"x" * 1_000_000 + b'"}'
METADATA = {"location": "http://169.254.169.254/latest"}
UNARY_FAULTS = [
    ("invalid_json", Fault(raw_body=b'{"id": "x", "choices": [', content_type="application/json"), 502,
     "upstream_invalid_response"),
    ("html_instead_of_json", Fault(raw_body=b"<html>Sign in</html>", content_type="text/html"), 502,
     "upstream_invalid_response"),
    ("enormous_body", Fault(raw_body=HUGE), 502, "upstream_response_too_large"),
    ("redirect", Fault(status=302, raw_body=b"", headers=METADATA), 502,
     "upstream_invalid_response"),
    ("reset_before_body", Fault(disconnect_after=0), 502, None),
    ("slow_loris", Fault(slow_loris=0.2), 504, None),
    ("html_error_page", Fault(status=500, raw_body=b"<html>broke</html>", content_type="text/html"), 500,
     "upstream_error"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "fault", "status", "code"), UNARY_FAULTS, ids=[f[0] for f in UNARY_FAULTS])
def test_unary_faults_become_clean_errors(
    setup: tuple[Workspace, str],
    bounded: RelaygateServer,
    hostile: FakeUpstream,
    name: str,
    fault: Fault,
    status: int,
    code: str | None,
) -> None:
    workspace, router_id = setup
    hostile.script("/chat/completions", [fault])
    response = workspace.api("POST", "/v3/router/chat/completions", json=_body(router_id, False))
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "param", "code"}
    if code is not None:
        assert error["code"] == code
    assert "Traceback" not in response.text
    assert "<html>" not in response.text
    request_id = response.headers["x-request-id"]
    row = next(r for r in usage_rows(bounded, request_id) if r["request_id"] == request_id)
    assert row["status"] == status
    assert row["error_code"]
    assert hostile.wait_idle(timeout=5)


STREAM_FAULTS = [
    ("never_ending", Fault(never_ending=True), "upstream_timeout"),
    ("slow_loris_stream", Fault(slow_loris=0.02), "upstream_timeout"),
    ("malformed_sse", Fault(malformed_sse=True), "upstream_invalid_response"),
    ("reset_mid_stream", Fault(disconnect_after=2), None),
]


@pytest.mark.parametrize(("name", "fault", "code"), STREAM_FAULTS, ids=[f[0] for f in STREAM_FAULTS])
def test_stream_faults_end_with_an_error_event(
    setup: tuple[Workspace, str],
    bounded: RelaygateServer,
    hostile: FakeUpstream,
    name: str,
    fault: Fault,
    code: str | None,
) -> None:
    workspace, router_id = setup
    hostile.script("/chat/completions", [fault])
    with httpx.stream(
        "POST",
        f"{bounded.url}/v3/router/chat/completions",
        json=_body(router_id, True),
        headers={"authorization": f"Bearer {workspace.admin_key}"},
        timeout=30,
    ) as response:
        text = response.read().decode(errors="replace")
        request_id = response.headers["x-request-id"]
    assert '"error"' in text, text[-500:]
    assert "Traceback" not in text
    assert "not sse" not in text  # garbage never reaches the client
    assert "[DONE]" not in text
    if code is not None:
        assert f'"code":"{code}"' in text
    row = next(r for r in usage_rows(bounded, request_id) if r["request_id"] == request_id)
    assert row["status"] >= 500
    assert row["error_code"]
    assert hostile.wait_idle(timeout=5)


ODD = {"x-odd": "caf\u00e9", "retry-after": "\u00e9t\u00e9"}  # not visible ASCII: HTTP allows it


def test_header_values_that_are_not_ascii_are_ignored(
    setup: tuple[Workspace, str], hostile: FakeUpstream
) -> None:
    """Read by name (content-type, retry-after) or all at once (before a retry), such a value
    counts as absent: the call goes on as if the upstream had not sent it."""
    workspace, router_id = setup
    client = workspace.client()
    messages: Any = [{"role": "user", "content": "hi"}]
    hostile.script("/chat/completions", [Fault(headers=ODD)])
    assert client.chat.completions.create(model=router_id, messages=messages).choices
    hostile.script("/chat/completions", [Fault(headers=ODD)])
    assert list(client.chat.completions.create(model=router_id, messages=messages, stream=True))
    hostile.script("/chat/completions", [Fault(status=429, headers=ODD)])
    retried = client.chat.completions.with_raw_response.create(
        model=router_id, messages=messages, extra_body={"retry": {"count": 1}}
    )
    assert retried.headers["x-relaygate-attempts"] == "2"


def test_nothing_leaks_after_the_faults(bounded: RelaygateServer, hostile: FakeUpstream, setup: Any) -> None:
    baseline = open_sockets(bounded)
    workspace, router_id = setup
    for _ in range(5):
        hostile.script("/chat/completions", [Fault(disconnect_after=1), Fault(malformed_sse=True)])
        for _ in range(2):
            with httpx.stream(
                "POST",
                f"{bounded.url}/v3/router/chat/completions",
                json=_body(router_id, True),
                headers={"authorization": f"Bearer {workspace.admin_key}"},
                timeout=30,
            ) as response:
                response.read()
    assert hostile.wait_idle(timeout=5)
    assert hostile.active_handlers == 0
    # Broken connections were closed, not pooled: at most a few idle keep-alive ones remain.
    assert hostile.open_connections <= 2
    assert open_sockets(bounded) <= baseline + 2
