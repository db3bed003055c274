"""Relaying an upstream's server-sent events to the client, event by event.

Chunks are cut at event boundaries (a blank line) so that no rewrite ever sees half an
event. Per event the relay does two cheap byte operations and parses JSON only when
the event mentions ``"usage"``:

* the upstream model id is replaced by the router id (``"model":"..."``);
* the usage object is captured; when relaygate itself asked for
  ``stream_options.include_usage``, the usage-only chunk and the ``"usage":null``
  fields are removed so the client sees exactly what it would have without us.
"""

from __future__ import annotations

from typing import Any

import orjson

_NULL_USAGE = (b',"usage":null', b'"usage":null,', b', "usage": null', b'"usage": null, ')
# A usage object (not null). Inside a JSON string these bytes would be escaped (\"usage\"),
# so finding neither means no event of the block reports usage.
_USAGE_OBJECT = (b'"usage":{', b'"usage": {')


class StreamRelay:
    def __init__(self, upstream_model: str, router_model: str, *, hide_usage: bool) -> None:
        upstream = orjson.dumps(upstream_model)
        router = orjson.dumps(router_model)
        self._replacements = (
            (b'"model":' + upstream, b'"model":' + router),
            (b'"model": ' + upstream, b'"model": ' + router),
        )
        self._hide_usage = hide_usage
        self._buffer = b""
        self.usage: dict[str, Any] | None = None
        self.saw_done = False
        self.events = 0

    def feed(self, chunk: bytes) -> bytes:
        data = self._buffer + chunk if self._buffer else chunk
        held = b""
        if b"\r" in data:
            if data.endswith(b"\r"):  # its "\n" may come with the next chunk
                data, held = data[:-1], b"\r"
            data = data.replace(b"\r\n", b"\n")
        end = data.rfind(b"\n\n")
        if end < 0:
            self._buffer = data + held
            return b""
        self._buffer = data[end + 2 :] + held
        return self._process(data[: end + 2])

    def flush(self) -> bytes:
        rest, self._buffer = self._buffer, b""
        return self._process(rest) if rest.strip() else b""

    def _process(self, block: bytes) -> bytes:
        for old, new in self._replacements:
            if old in block:
                block = block.replace(old, new)
        if b"[DONE]" in block:
            self.saw_done = True
        self.events += block.count(b"\n\n")
        if b'"usage"' not in block:
            return block
        if not any(pattern in block for pattern in _USAGE_OBJECT):
            # Every chunk carries "usage":null once include_usage is asked for: drop it
            # without parsing when relaygate asked, leave it when the client did.
            if self._hide_usage:
                for pattern in _NULL_USAGE:
                    block = block.replace(pattern, b"")
            return block
        return b"".join(self._usage_event(event) for event in block.split(b"\n\n") if event)

    def _usage_event(self, event: bytes) -> bytes:
        separator = b"\n\n"
        if b'"usage"' not in event:
            return event + separator
        payload = _data_of(event)
        if payload is None:
            return event + separator
        usage = payload.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
        if not self._hide_usage:
            return event + separator
        if isinstance(usage, dict):
            if not payload.get("choices"):
                return b""  # the usage-only chunk the client did not ask for
            payload.pop("usage", None)
            return b"data: " + orjson.dumps(payload) + separator
        for pattern in _NULL_USAGE:
            if pattern in event:
                return event.replace(pattern, b"", 1) + separator
        return event + separator


def _data_of(event: bytes) -> dict[str, Any] | None:
    lines = [line[5:].lstrip() for line in event.split(b"\n") if line.startswith(b"data:")]
    if not lines:
        return None
    try:
        parsed = orjson.loads(b"\n".join(lines))
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
