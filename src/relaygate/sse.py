"""Server-sent events: the one place that reads and writes them.

Reading follows the WHATWG rules (``html.spec.whatwg.org``, "Parsing an event stream"):
a line ends with ``\\r\\n``, ``\\n`` or ``\\r``; a blank line ends an event; a line
``name: value`` is a field whose value drops ONE leading space; a line without a colon is a
field with an empty value; a line opening with ``:`` is a comment; an event's data is its
``data`` values joined by ``\\n``.

* ``SseDecoder`` turns an upstream's chunks into whole events, looking at each byte once
  (it remembers where the previous scan stopped). An event comes out as its lines joined by
  ``\\n``, without the blank line, comments and all, so it can be relayed as it came. An
  event that grows past its bound (``RELAYGATE_MAX_SSE_EVENT_BYTES``) ends the stream with
  ``EventTooLarge`` instead of growing memory: an upstream that streams bytes with no blank
  line holds at most one bound's worth. What is left when the upstream ends (``close``) is
  one more event. ``split_events`` does the same for a whole stream held in memory.
* ``event_fields``, ``event_data`` and ``event_object`` read one decoded event: its fields,
  its data, the JSON object its data carries.
* ``encode_event`` writes one event the way OpenAI does (``event: name\\ndata: ...\\n\\n``);
  ``DONE`` is the chat stream's last one, which ``is_done`` knows.

Both planes speak it: the router relays upstream streams (``router/stream_relay.py``),
the control plane streams a probe's checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from relaygate.upstream.transport import TransportError

MAX_EVENT_BYTES = 1024 * 1024  # RELAYGATE_MAX_SSE_EVENT_BYTES' default
_SEPARATOR = b"\n\n"
_DATA = b"data: "
# "data: [DONE]" and its variants are short; a chunk whose text says "[DONE]" is not.
_DONE_EVENT_BYTES = 32


class EventTooLarge(TransportError):
    """One server-sent event of the upstream passed ``RELAYGATE_MAX_SSE_EVENT_BYTES``."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the upstream sent a server-sent event longer than {limit} bytes")
        self.limit = limit


class SseDecoder:
    """Upstream bytes in, whole events out: each event's lines joined by ``\\n``, no blank line.

    The size of an event is counted in these normalised bytes; an event of exactly
    ``max_event_bytes`` passes, one byte more raises ``EventTooLarge``.
    """

    __slots__ = ("_after_cr", "_max", "_pending")

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._pending = bytearray()  # the event being received, line endings already "\n"
        self._after_cr = False  # the last chunk ended in "\r": a "\n" opening the next belongs to it

    def feed(self, chunk: bytes) -> list[bytes]:
        chunk = self._normalised(chunk)
        pending = self._pending
        if not pending:
            chunk = chunk.lstrip(b"\n")  # blank lines between events dispatch nothing
            if chunk[-2:] == _SEPARATOR:  # the usual chunk: whole events, nothing left over
                return self._checked(_events_of(chunk[:-2]), len(chunk))
        scanned = max(len(pending) - 1, 0)  # the last byte seen before may open a separator
        pending += chunk
        end = pending.rfind(_SEPARATOR, scanned)
        if end < 0:
            self._check_pending()
            return []
        block = bytes(pending[:end])
        del pending[: end + 2]  # what stays cannot start with "\n": that "\n\n" would be the last
        self._check_pending()
        return self._checked(_events_of(block), end)

    def close(self) -> list[bytes]:
        """The tail: an event the upstream ended without a blank line after it."""
        tail = bytes(self._pending).strip(b"\n")
        self._pending.clear()
        self._after_cr = False
        return [tail] if tail.strip() else []

    def _normalised(self, chunk: bytes) -> bytes:
        if not chunk:
            return chunk  # leaves ``_after_cr`` for the next one
        if self._after_cr and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._after_cr = chunk[-1:] == b"\r"
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return chunk

    def _checked(self, events: list[bytes], size: int) -> list[bytes]:
        if size > self._max and any(len(event) > self._max for event in events):
            raise EventTooLarge(self._max)
        return events

    def _check_pending(self) -> None:
        pending = self._pending
        size = len(pending) - (pending[-1:] == b"\n")  # its last line's ending is not the event's
        if size > self._max:
            raise EventTooLarge(self._max)


def _events_of(block: bytes) -> list[bytes]:
    if _SEPARATOR not in block:
        return [block.rstrip(b"\n")]
    return [event for event in (part.strip(b"\n") for part in block.split(_SEPARATOR)) if event]


def split_events(stream: bytes) -> list[bytes]:
    """Every event of a whole stream held in memory (a replay, a kept copy), as the decoder
    gives them; a stream cut short ends with the event it was in the middle of."""
    decoder = SseDecoder(len(stream))
    return decoder.feed(stream) + decoder.close()


def event_fields(event: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The fields of one decoded event as ``(name, value)``, comments left out.

    ``data:x`` and ``data: x`` both give ``(b"data", b"x")``; ``data`` alone gives
    ``(b"data", b"")``; ``data:  x`` keeps the second space.
    """
    for line in event.split(b"\n"):
        if not line or line[:1] == b":":
            continue
        name, _, value = line.partition(b":")
        yield name, value[1:] if value[:1] == b" " else value


def event_data(event: bytes) -> bytes | None:
    """The data of one decoded event (its ``data`` values joined by ``\\n``); None when it
    has no ``data`` field (a comment, a lone ``event:``), which a client never dispatches."""
    if event[:6] == _DATA and b"\n" not in event:  # the usual event: one data line
        return event[6:]
    values = [value for name, value in event_fields(event) if name == b"data"]
    return b"\n".join(values) if values else None


def event_object(event: bytes) -> dict[str, Any] | None:
    """The JSON object one decoded event carries; None for ``[DONE]``, a comment, or data
    that is not a JSON object."""
    data = event_data(event)
    if data is None:
        return None
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def encode_event(data: bytes, event: str | None = None) -> bytes:
    """One event as OpenAI writes it: ``event: <event>`` when named, ``data: <data>``, a blank line.

    Data of several lines (any line ending) gets one ``data:`` line each, which a reader
    joins back with ``\\n``. ``event`` is a name of ours, one line of text.
    """
    if b"\n" in data or b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\n" + _DATA)
    if event is None:
        return _DATA + data + _SEPARATOR
    return b"event: " + event.encode() + b"\n" + _DATA + data + _SEPARATOR


DONE = encode_event(b"[DONE]")
# A comment line: keeps a quiet stream's connection (and the proxies on its way) from timing out;
# every SSE reader skips it.
KEEPALIVE = b": keep-alive" + _SEPARATOR


def is_done(event: bytes) -> bool:
    """Whether one decoded event is the chat stream's end (``data: [DONE]``), by its bytes."""
    return len(event) < _DONE_EVENT_BYTES and b"[DONE]" in event
