"""Broken and hostile upstreams: each becomes a clean error for the client and a usage
event, and leaves no connection or handler behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest

from security.helpers import open_sockets, usage_rows

from support.server import RelaygateServer, Workspace, make_server
from upstream import FakeUpstream
from upstream.faults import Fault, endless

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
    text, request_id, _ = _read_stream(bounded, workspace.admin_key, router_id, timeout=30)
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


# An upstream that opens an event and never ends its line: 64 KiB after 64 KiB of "x".
ENDLESS_LINE = Fault(
    raw_stream=endless(b'data: {"id": "x", "choices": [{"delta": {"content": "', b"x" * 65536),
    content_type="text/event-stream",
)
EVENT_BOUND_KIB = 1024  # RELAYGATE_MAX_SSE_EVENT_BYTES' default, which the bounded server keeps


@pytest.fixture(scope="module")
def healthy() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


def _rss_kib(server: RelaygateServer) -> int:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


class PeakRss:
    """The server's highest resident size while the block runs, sampled every 5 ms."""

    def __init__(self, server: RelaygateServer) -> None:
        self._server = server
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.peak_kib = 0

    def _sample(self) -> None:
        while not self._done.wait(0.005):
            self.peak_kib = max(self.peak_kib, _rss_kib(self._server))

    def __enter__(self) -> PeakRss:
        self.peak_kib = _rss_kib(self._server)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._done.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, _rss_kib(self._server))


def _read_stream(
    server: RelaygateServer, key: str, router_id: str, timeout: float = 60
) -> tuple[str, str, float]:
    """The whole stream's text, its request id and the seconds it took."""
    started = time.monotonic()
    with httpx.stream(
        "POST",
        f"{server.url}/v3/router/chat/completions",
        json=_body(router_id, True),
        headers={"authorization": f"Bearer {key}"},
        timeout=timeout,
    ) as response:
        text = response.read().decode(errors="replace")
        return text, response.headers["x-request-id"], time.monotonic() - started


def test_an_endless_line_ends_the_stream_without_growing_or_stalling_others(
    setup: tuple[Workspace, str], bounded: RelaygateServer, hostile: FakeUpstream, healthy: FakeUpstream
) -> None:
    workspace, router_id = setup
    healthy_id = workspace.add_model(healthy, "gpt-test", provider="healthy")["router_id"]
    client = workspace.client()
    messages: Any = [{"role": "user", "content": "hi"}]
    client.chat.completions.create(model=healthy_id, messages=messages)  # warm: pools, code paths
    baseline = _rss_kib(bounded)
    hostile.script("/chat/completions", [ENDLESS_LINE])
    latencies: list[float] = []
    with PeakRss(bounded) as rss, ThreadPoolExecutor(1) as pool:
        streamed = pool.submit(_read_stream, bounded, workspace.admin_key, router_id)
        deadline = time.monotonic() + 10
        while hostile.pending("/chat/completions") and time.monotonic() < deadline:
            time.sleep(0.005)  # until the hostile upstream has the call: what follows runs meanwhile
        for _ in range(3):
            started = time.monotonic()
            assert client.chat.completions.create(model=healthy_id, messages=messages).choices
            latencies.append(time.monotonic() - started)
        text, request_id, seconds = streamed.result(timeout=60)
    growth_kib = rss.peak_kib - baseline
    facts = f"error event after {seconds:.2f} s, healthy calls {latencies}, grew {growth_kib} KiB"
    assert seconds < 5, facts
    assert max(latencies) < 1, facts
    assert growth_kib < EVENT_BOUND_KIB + 8 * 1024, facts
    assert '"code":"upstream_event_too_large"' in text, text[-300:]
    assert text.startswith('data: {"error":')  # the one event the client gets
    assert text.count("\n\n") == 1
    assert "xxxxxxxx" not in text  # no part of the endless event reached the client
    assert "[DONE]" not in text
    row = next(r for r in usage_rows(bounded, request_id) if r["request_id"] == request_id)
    assert (row["status"], row["error_code"]) == (502, "upstream_event_too_large")
    assert hostile.wait_idle(timeout=15)  # the upstream was closed: an endless one never goes idle
