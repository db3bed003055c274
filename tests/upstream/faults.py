"""Scripted outcomes for the fake upstream.

A `Fault` describes one answer: either a replacement answer (an error status, a JSON body of our
choosing, raw bytes) or the normal answer delivered badly (late, slowly, cut off, with garbage in
the stream). `FaultScripts` holds one queue of faults per path; each call to that path takes the
next fault, and once the queue is empty the upstream behaves normally again.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# OpenAI's error type and code for the statuses tests script most often.
_ERROR_KINDS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to access this resource.", "invalid_request_error", None),
    404: ("The requested resource does not exist.", "invalid_request_error", None),
    408: ("Request timed out.", "timeout", None),
    409: ("Conflict.", "invalid_request_error", None),
    413: ("Request too large.", "invalid_request_error", None),
    422: ("Unprocessable request.", "invalid_request_error", None),
    429: ("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}


def error_body(
    status: int, message: str | None = None, *, type_: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The OpenAI-shaped error object for `status`, with defaults for the common statuses."""
    default_message, default_type, default_code = _ERROR_KINDS.get(
        status,
        (f"Upstream error {status}.", "server_error" if status >= 500 else "invalid_request_error", None),
    )
    return {
        "error": {
            "message": message if message is not None else default_message,
            "type": type_ if type_ is not None else default_type,
            "param": None,
            "code": code if code is not None else default_code,
        }
    }


@dataclass
class Fault:
    """One scripted outcome of a call.

    Replacement answers (the normal handler does not run):
      - `status` >= 400: answers `body`, or an OpenAI-shaped error for that status.
      - `body` given (any status): answers that JSON.
      - `raw_body` given: answers exactly those bytes with `content_type`.
      - `raw_stream` given: streams what it makes (a fresh iterable per call; see `endless`) with
        `content_type`, chunk after chunk, until it ends or the client goes away.
    Otherwise the normal answer is produced and then delivered according to the other fields:
      - `delay`: seconds to wait before the status line.
      - `chunk_delay`: seconds between body chunks (SSE events of a stream).
      - `disconnect_after`: send this many body chunks, then abort the connection (no `[DONE]`).
        A non-streaming body is one chunk, so 0 cuts it off right after the headers.
      - `end_delay`: seconds between the last chunk (a stream's `[DONE]`) and the end of the body.
      - `abort_at_end`: send every chunk, then abort the connection instead of ending the body.
      - `malformed_sse`: after the first event of a stream, insert lines that are not valid SSE/JSON.
      - `line_ending`: end a stream's lines with `b"\r\n"` or `b"\r"` instead of `b"\n"`, as
        SSE allows and some servers do.
      - `never_ending`: a stream that keeps producing chunks until the client goes away
        (bounded by `FakeUpstream.max_stream_seconds`).
      - `slow_loris`: send the headers, then the body one byte at a time; `True` means one byte per
        second, a number sets the seconds between bytes.
    `headers` are added to whichever answer is sent. Faults apply before authentication.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunk_delay: float = 0.0
    disconnect_after: int | None = None
    malformed_sse: bool = False
    line_ending: bytes = b"\n"
    raw_body: bytes | None = None
    raw_stream: Callable[[], Iterable[bytes]] | None = None
    content_type: str = "application/json"
    never_ending: bool = False
    slow_loris: bool | float = False
    end_delay: float = 0.0
    abort_at_end: bool = False

    @property
    def replaces_answer(self) -> bool:
        return (
            self.status >= 400
            or self.body is not None
            or self.raw_body is not None
            or self.raw_stream is not None
        )

    @property
    def byte_interval(self) -> float:
        """Seconds between single bytes for `slow_loris`, 0 when not trickling."""
        if self.slow_loris is True:
            return 1.0
        return float(self.slow_loris) if self.slow_loris else 0.0

    def replacement_body(self) -> tuple[bytes, str]:
        """Body bytes and content type of a replacement answer."""
        if self.raw_body is not None:
            return self.raw_body, self.content_type
        payload = self.body if self.body is not None else error_body(self.status)
        return json.dumps(payload).encode(), "application/json"


def endless(first: bytes, then: bytes) -> Callable[[], Iterator[bytes]]:
    """A `raw_stream`: `first`, then `then` over and over (a line that never ends, say)."""

    def stream() -> Iterator[bytes]:
        yield first
        while True:
            yield then

    return stream


NORMAL = Fault()


def normalize_path(path: str) -> str:
    """`/chat/completions`, `chat/completions` and `/v1/chat/completions` all name the same route."""
    path = "/" + path.strip("/")
    return path if path.startswith("/v1/") else "/v1" + path


class FaultScripts:
    """Thread-safe queues of faults per path (tests script from their thread, the server pops)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Fault]] = {}

    def add(self, path: str, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._queues.setdefault(normalize_path(path), deque()).extend(faults)

    def pop(self, path: str) -> Fault | None:
        with self._lock:
            queue = self._queues.get(path)
            return queue.popleft() if queue else None

    def pending(self, path: str) -> int:
        with self._lock:
            return len(self._queues.get(normalize_path(path), ()))

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
