"""Bounds on what a client may send the data plane, checked where they cost nothing.

* Body size: ``asgi.read_body`` (413). Request line and headers: the bounded HTTP
  protocol (``security/http_protocol.py``, 431).
* JSON depth: orjson refuses to parse more than 1024 levels and to write more than
  254; both surface here as 400 instead of an exception from deep inside a request.
* Huge numbers: orjson refuses a number that overflows a double (``1e999``) as
  malformed JSON (400). Large integers become floats, as in JavaScript.
* The fields relaygate itself reads (``messages``, ``stream``, ``stream_options``) must
  have the right type, and ``messages`` at most ``RELAYGATE_MAX_MESSAGES`` entries:
  a few ``isinstance`` checks per request.
"""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.errors import InvalidRequest

MAX_ENCODED_DEPTH = 254  # orjson's serialisation limit


class InputGuard:
    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages

    def check(self, body: dict[str, Any]) -> None:
        messages = body.get("messages")
        if messages is not None:
            if not isinstance(messages, list):
                raise InvalidRequest("'messages' must be an array of message objects.", param="messages")
            if len(messages) > self.max_messages:
                raise InvalidRequest(
                    f"'messages' has {len(messages)} entries; the limit is {self.max_messages}.",
                    param="messages",
                    code="too_many_messages",
                )
        stream = body.get("stream")
        if stream is not None and not isinstance(stream, bool):
            raise InvalidRequest("'stream' must be true or false.", param="stream")
        options = body.get("stream_options")
        if options is not None and not isinstance(options, dict):
            raise InvalidRequest("'stream_options' must be an object.", param="stream_options")


def encode_body(body: dict[str, Any]) -> bytes:
    """The body to forward; a body nested too deeply to write is the client's error."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        raise InvalidRequest(
            f"The request body is nested more than {MAX_ENCODED_DEPTH} levels deep.",
            code="json_too_deep",
        ) from None
