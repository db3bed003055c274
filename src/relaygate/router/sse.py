"""Server-sent events from an upstream: cut into events, then relayed to the client.

``SseDecoder`` turns the upstream's chunks into whole events, looking at each byte once
(it remembers where the previous scan stopped), with any of the line endings SSE allows
(``\\n``, ``\\r\\n``, ``\\r``). An event that grows past its bound
(``RELAYGATE_MAX_SSE_EVENT_BYTES``) ends the stream with ``EventTooLarge`` instead of
growing memory: an upstream that streams bytes with no blank line holds at most one
bound's worth. What is left when the upstream ends (``close``) is one more event,
relayed and checked like every other.

``StreamRelay`` takes those events and does two cheap byte operations per batch,
parsing JSON only when an event mentions ``"usage"``:

* the upstream model id is replaced by the router id (``"model":"..."``);
* the usage object is captured; when relaygate itself asked for
  ``stream_options.include_usage``, the usage-only chunk and the ``"usage":null``
  fields are removed so the client sees exactly what it would have without us.
"""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.upstream.transport import TransportError

MAX_EVENT_BYTES = 1024 * 1024  # RELAYGATE_MAX_SSE_EVENT_BYTES' default
_SEPARATOR = b"\n\n"
_NULL_USAGE = (b',"usage":null', b'"usage":null,', b', "usage": null', b'"usage": null, ')
# A usage object (not null). Inside a JSON string these bytes would be escaped (\"usage\"),
# so finding neither means no event of the block reports usage.
_USAGE_OBJECT = (b'"usage":{', b'"usage": {')


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


class StreamRelay:
    def __init__(self, upstream_model: str, router_model: str, *, hide_usage: bool) -> None:
        upstream = orjson.dumps(upstream_model)
        router = orjson.dumps(router_model)
        self._replacements = (
            (b'"model":' + upstream, b'"model":' + router),
            (b'"model": ' + upstream, b'"model": ' + router),
        )
        self._hide_usage = hide_usage
        self.usage: dict[str, Any] | None = None
        self.saw_done = False
        self.events = 0

    def on_events(self, events: list[bytes]) -> bytes:
        """Whole upstream events (from ``SseDecoder``) as the client gets them."""
        self.events += len(events)
        block = events[0] + _SEPARATOR if len(events) == 1 else _SEPARATOR.join(events) + _SEPARATOR
        for old, new in self._replacements:
            if old in block:
                block = block.replace(old, new)
        if b"[DONE]" in block:
            self.saw_done = True
        if b'"usage"' not in block:
            return block
        if not any(pattern in block for pattern in _USAGE_OBJECT):
            # Every chunk carries "usage":null once include_usage is asked for: drop it
            # without parsing when relaygate asked, leave it when the client did.
            if self._hide_usage:
                for pattern in _NULL_USAGE:
                    block = block.replace(pattern, b"")
            return block
        return b"".join(self._usage_event(event) for event in block.split(_SEPARATOR) if event)

    def on_end(self) -> bytes:
        return b""

    def _usage_event(self, event: bytes) -> bytes:
        if b'"usage"' not in event:
            return event + _SEPARATOR
        payload = _data_of(event)
        if payload is None:
            return event + _SEPARATOR
        usage = payload.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
        if not self._hide_usage:
            return event + _SEPARATOR
        if isinstance(usage, dict):
            if not payload.get("choices"):
                return b""  # the usage-only chunk the client did not ask for
            payload.pop("usage", None)
            return b"data: " + orjson.dumps(payload) + _SEPARATOR
        for pattern in _NULL_USAGE:
            if pattern in event:
                return event.replace(pattern, b"", 1) + _SEPARATOR
        return event + _SEPARATOR


def _data_of(event: bytes) -> dict[str, Any] | None:
    lines = [line[5:].lstrip() for line in event.split(b"\n") if line.startswith(b"data:")]
    if not lines:
        return None
    try:
        parsed = orjson.loads(b"\n".join(lines))
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
