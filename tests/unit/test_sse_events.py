"""Reading one event (fields, data, JSON) and writing one, as the WHATWG spec and OpenAI do.

The properties check the decoder and the readers against a reference parser written from
the spec's text, and that whatever ``encode_event`` writes reads back as the same data,
however the bytes are cut.
"""

from __future__ import annotations

import re
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from relaygate.sse import (
    DONE,
    SseDecoder,
    encode_event,
    event_data,
    event_fields,
    event_object,
    is_done,
    split_events,
)


def test_fields_drop_one_leading_space() -> None:
    event = b"data:x\ndata: x\ndata:  x\ndata\nevent: ping\n: a comment\nid:7"
    assert list(event_fields(event)) == [
        (b"data", b"x"),
        (b"data", b"x"),
        (b"data", b" x"),
        (b"data", b""),
        (b"event", b"ping"),
        (b"id", b"7"),
    ]


def test_a_value_keeps_its_colons() -> None:
    assert list(event_fields(b'data: {"a":"b:c"}')) == [(b"data", b'{"a":"b:c"}')]


def test_data_lines_are_joined_with_a_line_feed() -> None:
    assert event_data(b'data: {"a":\ndata: 1}') == b'{"a":\n1}'
    assert event_data(b"event: x\ndata: one\n: between\ndata:two") == b"one\ntwo"
    assert event_data(b"data: \ndata: ") == b"\n"


def test_the_usual_event_is_read_without_splitting() -> None:
    assert event_data(b'data: {"id":1}') == b'{"id":1}'
    assert event_data(b"data:  spaced") == b" spaced"
    assert event_data(b"data: [DONE]") == b"[DONE]"


def test_an_event_without_data_has_none() -> None:
    assert event_data(b": keep-alive") is None
    assert event_data(b"event: ping") is None
    assert event_data(b"datum: x") is None
    assert event_data(b"data") == b""  # a data field with an empty value: dispatched, empty
    assert event_data(b"data:") == b""


def test_the_object_an_event_carries() -> None:
    assert event_object(b'data: {"a": 1}') == {"a": 1}
    assert event_object(b'event: response.created\ndata: {"type":"response.created"}') == {
        "type": "response.created"
    }
    assert event_object(b'data: {"a":\ndata: [1, 2]}') == {"a": [1, 2]}
    for no_object in (b"data: [DONE]", b": comment", b"data: [1]", b'data: {"cut', b"data: \xff"):
        assert event_object(no_object) is None, no_object


def test_encode_is_what_openai_sends() -> None:
    assert encode_event(b'{"a":1}') == b'data: {"a":1}\n\n'
    assert encode_event(b"{}", "response.created") == b"event: response.created\ndata: {}\n\n"
    assert DONE == b"data: [DONE]\n\n"


def test_encode_gives_each_line_of_data_its_own_field() -> None:
    assert encode_event(b"a\nb\r\nc\rd") == b"data: a\ndata: b\ndata: c\ndata: d\n\n"
    assert encode_event(b"") == b"data: \n\n"


def test_done_is_known_by_its_bytes() -> None:
    assert is_done(b"data: [DONE]")
    assert is_done(b"data:[DONE]")
    assert not is_done(b'data: {"choices":[{"delta":{"content":"say [DONE] now"}}]}')
    assert not is_done(b'data: {"a":1}')


def test_split_events_reads_a_whole_stream_of_any_line_ending() -> None:
    stream = b"data: 1\r\n\r\n: ping\r\rdata: 2\n\ndata: 3"
    assert split_events(stream) == [b"data: 1", b": ping", b"data: 2", b"data: 3"]
    assert split_events(b"") == []


# -- properties ----------------------------------------------------------------------------

_LINE_END = re.compile(rb"\r\n|\r|\n")


def reference(stream: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of each event the WHATWG parser dispatches, written from the spec's steps;
    unlike a browser, the tail at the end of the stream is dispatched too (as relaygate does)."""
    dispatched: list[tuple[bytes, bytes]] = []
    kind, data = b"", b""

    def dispatch() -> None:
        nonlocal kind, data
        if data:
            dispatched.append((kind or b"message", data.removesuffix(b"\n")))
        kind, data = b"", b""

    for line in _LINE_END.split(stream):
        if not line:
            dispatch()
        elif not line.startswith(b":"):
            name, colon, value = line.partition(b":")
            value = value.removeprefix(b" ") if colon else b""
            if name == b"event":
                kind = value
            elif name == b"data":
                data += value + b"\n"
    dispatch()
    return dispatched


def decoded(pieces: list[bytes]) -> list[tuple[bytes, bytes]]:
    """(type, data) of each event with data that ``SseDecoder`` and ``event_data`` find."""
    decoder = SseDecoder(1 << 20)
    events = [event for piece in pieces for event in decoder.feed(piece)] + decoder.close()
    out: list[tuple[bytes, bytes]] = []
    for event in events:
        data = event_data(event)
        if data is not None:
            kinds = [value for name, value in event_fields(event) if name == b"event"]
            out.append((kinds[-1] if kinds and kinds[-1] else b"message", data))
    return out


def cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = sorted({0, len(data), *(point % (len(data) + 1) for point in points)})
    return [data[start:end] for start, end in pairwise(bounds)]


TOKENS = [b"data", b"event", b"id", b"retry", b":", b" ", b"x", b"{}", b"\r", b"\n", b"\r\n", b"[DONE]"]


@given(st.lists(st.sampled_from(TOKENS), max_size=40), st.lists(st.integers(0, 400), max_size=6))
def test_the_decoder_reads_any_stream_as_the_spec_does(tokens: list[bytes], points: list[int]) -> None:
    stream = b"".join(tokens)
    assert decoded(cut(stream, points)) == reference(stream)


NAMES = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), min_size=1)
# Any bytes, and often the ones that matter to SSE: spaces, line endings, colons.
DATA = st.binary(max_size=60) | st.lists(
    st.sampled_from([b" ", b"\n", b"\r", b"\r\n", b":", b"x", b"{}", b"\xff"]), max_size=12
).map(b"".join)


@given(
    st.lists(st.tuples(DATA, st.none() | NAMES), max_size=8),
    st.lists(st.integers(0, 2000), max_size=6),
)
def test_what_encode_writes_reads_back_the_same(
    events: list[tuple[bytes, str | None]], points: list[int]
) -> None:
    stream = b"".join(encode_event(data, name) for data, name in events)
    expected = [
        ((name or "message").encode(), data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        for data, name in events
    ]
    assert decoded(cut(stream, points)) == expected


@given(DATA.filter(lambda data: b"\r" not in data))
def test_data_without_carriage_returns_is_kept_byte_for_byte(data: bytes) -> None:
    (event,) = split_events(encode_event(data))
    assert event_data(event) == data
