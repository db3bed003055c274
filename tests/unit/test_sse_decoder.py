"""The SSE decoder: whole events out of any cut of the bytes, at most one bound held."""

from __future__ import annotations

import pytest

from relaygate.sse import EventTooLarge, SseDecoder

EVENTS = [b'data: {"a":1}', b"event: ping\ndata: {}", b": comment", b"data: [DONE]"]


def decode(data: bytes, cuts: list[int], limit: int = 1024) -> list[bytes]:
    """All events of ``data`` fed in pieces cut at ``cuts``, the tail included."""
    decoder = SseDecoder(limit)
    events: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        events += decoder.feed(data[start:end])
    return events + decoder.close()


@pytest.mark.parametrize("separator", [b"\n", b"\r\n", b"\r"])
def test_every_cut_gives_the_same_events(separator: bytes) -> None:
    data = b"".join(event.replace(b"\n", separator) + separator * 2 for event in EVENTS)
    for cut in range(len(data) + 1):
        assert decode(data, [cut]) == EVENTS, (separator, cut)
    for first in range(len(data)):
        for second in range(first, len(data)):
            assert decode(data, [first, second]) == EVENTS, (separator, first, second)


def test_byte_by_byte() -> None:
    data = b"".join(event + b"\r\n\r\n" for event in EVENTS)
    assert decode(data, list(range(1, len(data)))) == EVENTS


def test_events_come_out_as_soon_as_their_blank_line_does() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: 1\n") == []
    assert decoder.feed(b"\ndata: 2\r") == [b"data: 1"]
    assert decoder.feed(b"\r") == [b"data: 2"]  # "\r\r" is a blank line: nothing more is awaited
    assert decoder.feed(b"\ndata: 3\n\n") == [b"data: 3"]  # that "\n" ended the "\r", not a line


def test_extra_blank_lines_dispatch_nothing() -> None:
    data = b"\n\ndata: 1\n\n\n\n\ndata: 2\n\n\n"
    for cut in range(len(data) + 1):
        assert decode(data, [cut]) == [b"data: 1", b"data: 2"]


def test_tail_without_blank_line_is_an_event() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: 1\n\ndata: [DONE]\n") == [b"data: 1"]
    assert decoder.close() == [b"data: [DONE]"]
    assert decoder.close() == []


def test_blank_tail_is_nothing() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: 1\n\n\n") == [b"data: 1"]
    assert decoder.close() == []


def _event(size: int) -> bytes:
    return b"data: " + b"x" * (size - 6)


@pytest.mark.parametrize("size", [1, 7, 100])
def test_an_event_of_exactly_the_bound_passes(size: int) -> None:
    data = _event(100) + b"\r\n\r\n" + _event(100) + b"\n"
    cuts = list(range(size, len(data), size))
    assert decode(data, cuts, limit=100) == [_event(100), _event(100)]


@pytest.mark.parametrize("size", [1, 7, 101, 1000])
def test_one_byte_over_the_bound_raises(size: int) -> None:
    data = _event(101) + b"\n\n"
    with pytest.raises(EventTooLarge) as raised:
        decode(data, list(range(size, len(data), size)), limit=100)
    assert raised.value.limit == 100


def test_the_bound_counts_each_event_of_a_chunk() -> None:
    decoder = SseDecoder(100)
    assert decoder.feed((_event(100) + b"\n\n") * 3) == [_event(100)] * 3
    with pytest.raises(EventTooLarge):
        decoder.feed(_event(50) + b"\n\n" + _event(101) + b"\n\n" + _event(10) + b"\n\n")


def test_a_tail_over_the_bound_raises_before_the_end() -> None:
    decoder = SseDecoder(100)
    decoder.feed(_event(100))
    with pytest.raises(EventTooLarge):
        decoder.feed(b"x")


def test_an_endless_line_raises_once_past_the_bound() -> None:
    decoder = SseDecoder(64 * 1024)
    fed = 0
    with pytest.raises(EventTooLarge):  # noqa: PT012 - the loop is what runs into the bound
        while fed <= 10 * 64 * 1024:
            fed += 1000
            assert decoder.feed(b"x" * 1000) == []
    assert 64 * 1024 < fed <= 64 * 1024 + 1000
