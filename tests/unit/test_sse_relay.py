"""The stream relay cuts at event boundaries, rewrites the model and hides usage it added."""

from __future__ import annotations

import json

from relaygate.router.sse import SseDecoder, StreamRelay


def chunk(content: str | None, usage: dict[str, int] | None = None, choices: bool = True) -> bytes:
    body: dict[str, object] = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "model": "up-model",
        "usage": usage,
    }
    body["choices"] = [{"index": 0, "delta": {"content": content}}] if choices else []
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


STREAM = (
    chunk("Hel")
    + chunk("lo")
    + chunk(None, {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}, False)
    + b"data: [DONE]\n\n"
)


def relay_all(relay: StreamRelay, data: bytes, size: int) -> bytes:
    """The stream as the forwarder relays it: decoded, handed over event batch by batch."""
    decoder = SseDecoder()
    batches = [decoder.feed(data[i : i + size]) for i in range(0, len(data), size)]
    batches.append(decoder.close())
    return b"".join(relay.on_events(events) for events in batches if events) + relay.on_end()


def test_split_anywhere_gives_the_same_output() -> None:
    whole = relay_all(StreamRelay("up-model", "p/model", hide_usage=True), STREAM, len(STREAM))
    for size in (1, 7, 50):
        relay = StreamRelay("up-model", "p/model", hide_usage=True)
        assert relay_all(relay, STREAM, size) == whole
        assert relay.usage == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
        assert relay.saw_done


def test_hidden_usage_leaves_exactly_the_plain_stream() -> None:
    relay = StreamRelay("up-model", "p/model", hide_usage=True)
    out = relay_all(relay, STREAM, 13)
    assert b'"usage"' not in out
    assert b"up-model" not in out
    events = [e for e in out.split(b"\n\n") if e]
    assert len(events) == 3
    assert events[-1] == b"data: [DONE]"
    assert json.loads(events[0][6:])["model"] == "p/model"


def test_requested_usage_is_kept() -> None:
    relay = StreamRelay("up-model", "p/model", hide_usage=False)
    out = relay_all(relay, STREAM, 5)
    assert out.count(b'"usage"') == 3
    assert relay.usage is not None


def test_crlf_events() -> None:
    relay = StreamRelay("up-model", "p/model", hide_usage=True)
    out = relay_all(relay, STREAM.replace(b"\n", b"\r\n"), 9)
    assert out.count(b"\n\n") == 3


def test_spaced_json_is_handled_like_compact_json() -> None:
    spaced = b"".join(
        b"data: " + json.dumps(json.loads(event[6:])).encode() + b"\n\n"
        for event in STREAM.split(b"\n\n")
        if event.startswith(b"data: {")
    )
    relay = StreamRelay("up-model", "p/model", hide_usage=True)
    out = relay_all(relay, spaced + b"data: [DONE]\n\n", 11)
    assert b'"usage"' not in out
    assert relay.usage == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert [json.loads(e[6:])["model"] for e in out.split(b"\n\n") if e.startswith(b"data: {")] == [
        "p/model",
        "p/model",
    ]
