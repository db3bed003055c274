"""Upstream answers an OpenAI-compatible API does not send, turned into clean errors.

* a 2xx answer in HTML (a captive portal, a login page, a wrong base URL) or JSON that
  does not parse, or a redirect (never followed): 502 ``upstream_invalid_response``;
* an error answer whose body is not an OpenAI error: the status is kept, the body is
  replaced by an OpenAI-shaped one (the raw body may be a page of the upstream's HTML);
* a stream event that is not ``data: {...}`` / ``data: [DONE]`` / an SSE field or comment:
  the stream ends with an error event (``MalformedStream``);
* an answer over its size bound (``transport.ResponseTooLarge``): 502;
* a stream event over its bound (``sse.EventTooLarge``): the stream ends with an error event.

The common case costs a few byte comparisons: JSON is parsed only where the relay parses
it anyway, or when the answer is already an error.
"""

from __future__ import annotations

import re

import orjson

from relaygate.errors import RelaygateError, UpstreamUnavailable
from relaygate.security.redaction import redact_bytes
from relaygate.sse import EventTooLarge, event_data, event_fields
from relaygate.upstream.transport import ResponseTooLarge, TransportError

_FIELDS = frozenset((b"data", b"event", b"id", b"retry"))
# OpenAI's error bodies are a few hundred bytes; a larger "error" is relayed as ours.
MAX_ERROR_BODY_BYTES = 64 * 1024
_JSON_START = re.compile(rb"\s*[{\[]")  # matched in place: no copy of a large answer
# The events OpenAI-compatible upstreams send (chat: data lines; Responses: each named),
# checked in one pass; anything else is read field by field.
_USUAL_EVENTS = re.compile(rb"(?:(?:event: [^\n]*\n)?data: (?:\{[^\n]*\}|\[DONE\])\n\n)+")


class MalformedStream(TransportError):
    """The upstream's event stream carried something that is not a server-sent event."""


def invalid_answer(router_id: str, what: str) -> UpstreamUnavailable:
    return UpstreamUnavailable(
        f"The upstream of model '{router_id}' {what}.", code="upstream_invalid_response"
    )


def bad_answer_error(router_id: str, exc: TransportError) -> RelaygateError | None:
    if isinstance(exc, ResponseTooLarge):
        return UpstreamUnavailable(
            f"The upstream of model '{router_id}' sent an answer larger than relaygate accepts.",
            code="upstream_response_too_large",
        )
    if isinstance(exc, EventTooLarge):
        return UpstreamUnavailable(
            f"The upstream of model '{router_id}' sent a stream event longer than relaygate accepts "
            f"({exc.limit} bytes).",
            code="upstream_event_too_large",
        )
    if isinstance(exc, MalformedStream):
        return invalid_answer(router_id, "sent a malformed event stream")
    return None


def check_success_answer(router_id: str, status: int, content_type: bytes, body: bytes) -> None:
    """Refuse a 2xx/3xx answer that cannot be what the client asked for (redirects are not followed)."""
    if status >= 300:
        raise invalid_answer(
            router_id, f"answered with a redirect (HTTP {status}); relaygate does not follow them"
        )
    kind = content_type.lower()
    if b"html" in kind:
        raise invalid_answer(router_id, f"answered with {kind.decode(errors='replace')} instead of JSON")
    if b"json" in kind and _JSON_START.match(body) is None:
        raise invalid_answer(router_id, "sent a body that is not JSON")


def error_answer(
    router_id: str, status: int, content_type: bytes, body: bytes, secret: str
) -> tuple[bytes, bytes]:
    """An upstream error as the client sees it: the upstream's OpenAI error, or one of ours.

    An upstream that echoes the key it was sent, whole or in part, does not get to show it
    to router keys: any 8+ character part of it, and any bearer or key-like token, is redacted.
    An error body over ``MAX_ERROR_BODY_BYTES`` is no OpenAI error: it is replaced unread, so
    a hostile upstream's huge error costs no redaction pass on the event loop.
    """
    if len(body) > MAX_ERROR_BODY_BYTES:
        return _replacement(router_id, status)
    body = redact_bytes(body, (secret,) if secret else ())
    if b"json" in content_type.lower():
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict | str):
            return body, content_type
    return _replacement(router_id, status)


def _replacement(router_id: str, status: int) -> tuple[bytes, bytes]:
    error_type = "api_error" if status >= 500 else "invalid_request_error"
    replacement = {
        "error": {
            "message": f"The upstream of model '{router_id}' answered HTTP {status} "
            "without an OpenAI error body.",
            "type": error_type,
            "param": None,
            "code": "upstream_error",
        }
    }
    return orjson.dumps(replacement), b"application/json"


def check_events(block: bytes) -> None:
    """Raise ``MalformedStream`` unless every event of this relayed block is SSE we relay."""
    if _USUAL_EVENTS.fullmatch(block) is not None:
        return
    for event in block.split(b"\n\n"):  # relayed: events end with a blank line, lines with "\n"
        if event and not _relayable(event):
            raise MalformedStream("the upstream sent a line that is not a server-sent event")


def _relayable(event: bytes) -> bool:
    """Fields SSE knows (comments too), and data that is ``[DONE]`` or a JSON object."""
    if any(name not in _FIELDS for name, _ in event_fields(event)):
        return False
    data = event_data(event)
    if data is None:
        return True
    data = data.strip()
    return data == b"[DONE]" or (data[:1] == b"{" and data[-1:] == b"}")
