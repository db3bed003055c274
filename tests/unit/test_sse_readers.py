"""The modules that read server-sent events do it through ``sse.py``, so by the same rules:
the check of relayed events, the text a kept stream carried, the Responses translation."""

from __future__ import annotations

import json

import pytest

from relaygate.router.responses_api.stream import ResponsesStream
from relaygate.router.upstream_answers import MalformedStream, check_events
from relaygate.sse import encode_event, split_events
from relaygate.usage.extract import StreamText


def chat_chunk(content: str) -> bytes:
    return encode_event(
        json.dumps({"id": "c1", "choices": [{"index": 0, "delta": {"content": content}}]}).encode()
    )


RELAYABLE = [
    chat_chunk("a"),
    chat_chunk("a") + chat_chunk("b") + b"data: [DONE]\n\n",
    b'event: response.created\ndata: {"type":"response.created"}\n\n' * 2,
    b": keep-alive\n\n" + chat_chunk("a"),
    b'id: 7\nretry: 1000\ndata:{"a":1}\n\n',
    b'data: {"a":\ndata: 1}\n\n',  # one JSON object over two data lines
    b'data:  {"a": 1}  \n\n',
]
MALFORMED = [
    b"this line is not sse\n\n",
    b'data: {"id": "broken", "choices": [\n\n',
    b"data: \xff\xfe not utf-8\n\n",
    chat_chunk("a") + b"data\n\n",
    chat_chunk("a") + b"data: [1, 2]\n\n",
]


@pytest.mark.parametrize("block", RELAYABLE)
def test_sse_that_is_relayed(block: bytes) -> None:
    check_events(block)


@pytest.mark.parametrize("block", MALFORMED)
def test_sse_that_ends_the_stream(block: bytes) -> None:
    with pytest.raises(MalformedStream):
        check_events(block)


def test_the_text_of_a_kept_chat_stream() -> None:
    kept = StreamText()
    stream = chat_chunk("Hel") + b": ping\n\n" + chat_chunk("lo") + b"data: [DONE]\n\n"
    for piece in (stream[:30], stream[30:]):
        kept.add(piece)
    assert kept.answer_text() == "Hello"


def test_the_text_of_a_kept_responses_stream() -> None:
    stream = ResponsesStream({"input": "hi"}, "p/model")
    relayed = StreamText()
    for event in split_events(chat_chunk("Hel") + chat_chunk("lo") + b"data: [DONE]\n\n"):
        relayed.add(stream.on_events([event]))
    assert relayed.answer_text() == "Hello"  # from the deltas, not also from the ".done" events


def test_the_responses_translation_reads_chat_events_by_the_spec() -> None:
    stream = ResponsesStream({"input": "hi"}, "p/model")
    data = json.dumps({"id": "c1", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}).encode()
    two_lines = b"data:" + data.replace(b'"choices"', b'\ndata: "choices"', 1)  # a split JSON object
    out = stream.on_events([b": ping", two_lines, b"data:[DONE]"])
    kinds = [json.loads(e.partition(b"data: ")[2])["type"] for e in split_events(out)]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert "response.output_text.delta" in kinds
    assert kinds[-1] == "response.completed"
    assert stream.saw_done
