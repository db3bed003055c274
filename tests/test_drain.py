"""Graceful shutdown on SIGTERM: readiness 503 at once, streams drain, usage flushed."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from typing import Any

import openai
import pytest

from support.server import RelaygateServer
from upstream import FakeUpstream, Fault

# Bounds on how long a stop takes: run alone (scripts/test), not beside other tests.
pytestmark = pytest.mark.serial

MESSAGES: list[Any] = [{"role": "user", "content": "tell me a story"}]
ServerFactory = Any


def stored_statuses(server: RelaygateServer, request_id: str) -> list[int]:
    with sqlite3.connect(server.home / "relaygate.db") as db:
        rows = db.execute("SELECT status FROM usage_events WHERE request_id = ?", (request_id,)).fetchall()
    return [row[0] for row in rows]


class StreamInThread:
    """Read a streamed chat completion in a thread; record its text and how it ended."""

    def __init__(self, client: openai.OpenAI, model: str) -> None:
        self.first_chunk = threading.Event()
        self.text = ""
        self.finish_reason: str | None = None
        self.error: Exception | None = None
        self.request_id = ""
        self._thread = threading.Thread(target=self._read, args=(client, model))
        self._thread.start()

    def _read(self, client: openai.OpenAI, model: str) -> None:
        try:
            raw = client.chat.completions.with_raw_response.create(
                model=model, messages=MESSAGES, stream=True
            )
            self.request_id = raw.headers["x-request-id"]
            for chunk in raw.parse():
                self.first_chunk.set()
                for choice in chunk.choices:
                    self.text += choice.delta.content or ""
                    self.finish_reason = choice.finish_reason or self.finish_reason
        except Exception as exc:
            self.error = exc
        finally:
            self.first_chunk.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the stream did not end"


def expected_text(server: RelaygateServer, key: str) -> str:
    stream = server.client(key).chat.completions.create(model="fake/gpt-test", messages=MESSAGES, stream=True)
    return "".join(choice.delta.content or "" for chunk in stream for choice in chunk.choices)


def test_sigterm_turns_readiness_503_at_once_and_lets_a_stream_finish(
    relaygate_factory: ServerFactory, fake_upstream: FakeUpstream
) -> None:
    server = relaygate_factory(RELAYGATE_DRAIN_DELAY="1", RELAYGATE_DRAIN_TIMEOUT="20")
    workspace = server.new_workspace()
    workspace.add_model(fake_upstream, "gpt-test")
    whole = expected_text(server, workspace.admin_key)
    fake_upstream.script("/chat/completions", [Fault(chunk_delay=0.4)])
    assert server.api("GET", "/health/ready").status_code == 200

    stream = StreamInThread(workspace.client(), "fake/gpt-test")
    assert stream.first_chunk.wait(10)
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    ready = server.api("GET", "/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["process"] == "draining"
    assert server.api("GET", "/health").json()["status"] == "draining", "liveness stays 200 while draining"

    stream.join(timeout=30)
    assert stream.error is None
    assert stream.text == whole, "the in-flight stream was delivered whole"
    assert stream.finish_reason == "stop"
    server.process.wait(timeout=15)
    assert stored_statuses(server, stream.request_id) == [200], "the usage queue was flushed at exit"


@pytest.mark.timeout(60)
def test_drain_is_bounded_by_the_drain_timeout(
    relaygate_factory: ServerFactory, fake_upstream: FakeUpstream
) -> None:
    server = relaygate_factory(RELAYGATE_DRAIN_TIMEOUT="2")
    workspace = server.new_workspace()
    workspace.add_model(fake_upstream, "gpt-test")
    fake_upstream.script("/chat/completions", [Fault(never_ending=True, chunk_delay=0.05)])

    stream = StreamInThread(workspace.client(), "fake/gpt-test")
    assert stream.first_chunk.wait(10)
    assert server.process is not None
    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=20)
    took = time.monotonic() - signalled
    stream.join(timeout=10)
    assert 2 <= took < 8, f"exited {took:.1f} s after SIGTERM with a 2 s drain timeout"
    assert stream.finish_reason is None, "the endless stream was cut at the drain timeout"
    assert len(stored_statuses(server, stream.request_id)) == 1, "its usage event was still stored"
