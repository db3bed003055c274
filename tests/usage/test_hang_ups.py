"""Client hang-ups: recorded as 499 mid-answer, as a success once the answer was whole.

The OpenAI SDK closes the connection as soon as it reads ``data: [DONE]``; an upstream that
ends its body a moment later must not turn that call into a client disconnect."""

from __future__ import annotations

import json
import time
from typing import Any

from support.server import Workspace
from support.usage_events import usage_event
from upstream import FakeUpstream, Fault

MESSAGES: list[Any] = [{"role": "user", "content": "Tell me a short story about a lighthouse."}]


def _stream(workspace: Workspace, model: str, *, chunks: int | None = None) -> tuple[str, str]:
    """Streams a chat completion; reads ``chunks`` of it (all when None) and hangs up.
    Returns the request id and the text read."""
    raw = workspace.client().chat.completions.with_raw_response.create(
        model=model, messages=MESSAGES, stream=True
    )
    stream = raw.parse()
    text = ""
    for read, chunk in enumerate(stream, start=1):
        text += "".join(choice.delta.content or "" for choice in chunk.choices)
        if chunks is not None and read >= chunks:
            break
    stream.close()
    return raw.headers["x-request-id"], text


def test_a_client_that_hangs_up_mid_stream_is_recorded_as_499(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    model = workspace.add_model(upstream, "gpt-test", input_cost="1", output_cost="2")["router_id"]
    upstream.script("/chat/completions", [Fault(chunk_delay=0.1)])
    request_id, _ = _stream(workspace, model, chunks=3)
    event = usage_event(workspace, request_id)
    assert (event["status"], event["error_code"]) == (499, "client_disconnected")
    assert event["prompt_tokens"] > 0, "what the call consumed is still counted"
    deadline = time.monotonic() + 5
    while upstream.client_disconnects == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upstream.client_disconnects == 1, "the upstream call was cancelled with the client's"


def test_hanging_up_after_done_while_the_upstream_ends_late_is_a_success(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    model = workspace.add_model(upstream, "gpt-test", input_cost="1", output_cost="2")["router_id"]
    whole_id, whole = _stream(workspace, model)
    expected = usage_event(workspace, whole_id)
    # Chunks far enough apart that relaygate watches for the client's disconnect, and an
    # upstream that ends its body two seconds after [DONE].
    upstream.script("/chat/completions", [Fault(chunk_delay=0.05, end_delay=2.0)])
    started = time.monotonic()
    request_id, text = _stream(workspace, model)
    assert text == whole
    assert time.monotonic() - started < 2.0, "the client had its answer before the upstream's end"
    event = usage_event(workspace, request_id)
    assert (event["status"], "error_code" in event) == (200, False)
    for field in ("prompt_tokens", "completion_tokens", "total_tokens", "cost_nano", "estimated"):
        assert event[field] == expected[field], field


def test_an_upstream_that_breaks_off_after_done_still_answered_whole(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    _, whole = _stream(workspace, model)
    upstream.script("/chat/completions", [Fault(abort_at_end=True)])
    with workspace.client().chat.completions.with_streaming_response.create(
        model=model, messages=MESSAGES, stream=True
    ) as raw:
        body = raw.read().decode()
        request_id = raw.headers["x-request-id"]
    assert body.rstrip().endswith("data: [DONE]"), "no error event after the end of the answer"
    assert '"error"' not in body
    assert _text_of(body) == whole
    event = usage_event(workspace, request_id)
    assert (event["status"], "error_code" in event) == (200, False)
    assert event["completion_tokens"] > 0


def _text_of(sse: str) -> str:
    chunks = [json.loads(line[6:]) for line in sse.splitlines() if line.startswith("data: {")]
    return "".join(choice["delta"].get("content") or "" for chunk in chunks for choice in chunk["choices"])
