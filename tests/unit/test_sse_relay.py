"""The stream relay cuts at event boundaries, rewrites the model and hides usage it added."""

from __future__ import annotations

import json

from relaygate.router.stream_relay import StreamRelay
from relaygate.sse import SseDecoder


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


def test_done_is_the_end_event_not_a_text_that_says_it() -> None:
    relay = StreamRelay("up-model", "p/model", hide_usage=True)
    relay.on_events([chunk("the model says [DONE] here")])
    assert not relay.saw_done
    relay.on_events([b"data: [DONE]"])
    assert relay.saw_done


def test_usage_before_the_choices_is_hidden_too() -> None:
    early = b'data: {"id":"c1","usage":null,"model":"up-model","choices":[{"delta":{"content":"a"}}]}'
    relay = StreamRelay("up-model", "p/model", hide_usage=True)
    assert relay.on_events([early, early]) == (
        b'data: {"id":"c1","model":"p/model","choices":[{"delta":{"content":"a"}}]}\n\n' * 2
    )


def test_a_batch_with_the_usage_chunk_keeps_its_other_events() -> None:
    events = [e for e in STREAM.split(b"\n\n") if e]
    relay = StreamRelay("up-model", "p/model", hide_usage=True)
    out = relay.on_events([b": keep-alive", *events])
    assert out.startswith(b": keep-alive\n\n")
    assert out.count(b"\n\n") == 4  # the comment, two text chunks, [DONE]: the usage chunk is gone
    assert relay.usage == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert relay.events == 5


def test_usage_in_data_of_several_lines_is_read_as_one() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    split = (
        b'data: {"id":"c1","model":"up-model",\ndata: "choices":[{"delta":{}}],"usage":'
        + json.dumps(usage).encode().replace(b" ", b"")
        + b"}"
    )
    relay = StreamRelay("up-model", "p/model", hide_usage=True)
    out = relay.on_events([split])
    assert relay.usage == usage
    assert out == b'data: {"id":"c1","model":"p/model","choices":[{"delta":{}}]}\n\n'
