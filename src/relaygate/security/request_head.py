"""The size of a request head as parsed, and the 431 that refuses one past the bound.

Both servers bound the bytes they buffer for a head that is still arriving (uvicorn in
``http_protocol.py``, granian through hyper's read buffer), but a head that arrives whole
within one socket read is complete before either looks. Its size is then counted from
what was parsed: ``METHOD SP target SP HTTP/1.1 CRLF``, ``name: value CRLF`` per header,
and the blank line. That is the size on the wire when the head has no optional spaces
around values; those spaces are dropped by the parsers, so they are not held either.
"""

from __future__ import annotations

from collections.abc import Iterable

from relaygate.errors import error_body

_LINE_OVERHEAD = len(b"  HTTP/1.1\r\n") + len(
    b"\r\n"
)  # the request line's spaces and version, the blank line
_FIELD_OVERHEAD = len(b": \r\n")


def head_size(method: int, target: int, headers: Iterable[tuple[bytes, bytes]]) -> int:
    """The head's size from the lengths of its method and target and its header fields."""
    fields = sum([len(name) + len(value) + _FIELD_OVERHEAD for name, value in headers])
    return method + target + _LINE_OVERHEAD + fields


def refusal_body(limit: int) -> bytes:
    return error_body(
        431,
        f"The request line and headers exceed {limit} bytes (RELAYGATE_MAX_HEADER_BYTES).",
        "invalid_request_error",
        "request_header_fields_too_large",
    )
