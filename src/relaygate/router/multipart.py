"""Multipart uploads (image edits and variations, transcriptions, translations), streamed.

relaygate does not parse multipart bodies (python-multipart has had many DoS CVEs). A
small scanner reads the parts only up to the ``model`` field (and the simple fields
right after it, until the first file), bounded at every step; then the body goes on to
the upstream as it came, with only the model's value replaced. What was read before the
model field is held; everything after it streams through chunk by chunk.

Limits: the whole body (``RELAYGATE_MAX_UPLOAD_BYTES``, 413 past it), the headers of one
part, the value of a field we read, the number of parts before the model field.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from relaygate.errors import InvalidRequest, PayloadTooLarge
from relaygate.router.asgi import ClientGone
from relaygate.types import Receive

MAX_PART_HEADERS = 8 * 1024
MAX_FIELD_VALUE = 4 * 1024
MAX_PARTS_SCANNED = 64
WANTED_FIELDS = frozenset({"model", "stream"})

_BOUNDARY = re.compile(r"""boundary=(?:"([^"]{1,70})"|([0-9A-Za-z'()+_,\-./:=?]{1,70}))""")
_NAME = re.compile(rb"""(?:^|;)\s*name=(?:"([^"]*)"|([^;\s]+))""", re.IGNORECASE)
_FILENAME = re.compile(rb"""(?:^|;)\s*filename\*?=""", re.IGNORECASE)


def malformed(detail: str) -> InvalidRequest:
    return InvalidRequest(f"The multipart/form-data body is malformed: {detail}.", code="invalid_multipart")


def boundary_of(content_type: bytes | None) -> bytes:
    text = (content_type or b"").decode("latin-1")
    if not text.lower().startswith("multipart/form-data"):
        raise InvalidRequest(
            "This endpoint takes a multipart/form-data body (a file upload), "
            f"not {text.split(';')[0] or 'an untyped body'}.",
            code="invalid_content_type",
        )
    match = _BOUNDARY.search(text)
    if match is None:
        raise malformed("the Content-Type has no valid boundary")
    return (match.group(1) or match.group(2)).encode("latin-1")


def _disposition(headers: bytes) -> tuple[str | None, bool]:
    """The part's field name and whether it is a file, from its Content-Disposition."""
    for line in headers.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() != b"content-disposition":
            continue
        match = _NAME.search(value)
        name = (match.group(1) or match.group(2)).decode("utf-8", "replace") if match else None
        return name, _FILENAME.search(value) is not None
    return None, False


class ModelFieldScan:
    """Finds the ``model`` field of a multipart body fed chunk by chunk.

    ``complete`` turns true once the model field was read and the scan reached a file
    part, the end of the body, or every wanted field. ``buffer`` holds all bytes fed.
    """

    def __init__(self, boundary: bytes) -> None:
        self.buffer = bytearray()
        self.fields: dict[str, str] = {}
        self.model_span: tuple[int, int] | None = None
        self.complete = False
        self._delimiter = b"--" + boundary
        self._state = "preamble"
        self._pos = 0  # where the current state's bytes start
        self._search = 0  # where the next search may start (no rescanning)
        self._name: str | None = None
        self._parts = 0

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk
        while not self.complete and self._step():
            pass

    def finish(self) -> None:
        """The body ended: the model field must have been found."""
        if self.model_span is None:
            raise InvalidRequest(
                "You must provide a model parameter (a router model id) as a form field.", param="model"
            )
        self.complete = True

    def _step(self) -> bool:
        """Advance one state; False when more bytes are needed."""
        if self._state == "preamble":
            return self._preamble()
        if self._state == "delimiter":
            return self._after_delimiter()
        if self._state == "headers":
            return self._headers()
        return self._body()

    def _find(self, needle: bytes, start: int) -> int:
        at = self.buffer.find(needle, max(start, self._search))
        if at < 0:
            self._search = max(start, len(self.buffer) - len(needle) + 1)
        else:
            self._search = 0
        return at

    def _preamble(self) -> bool:
        at = self._find(self._delimiter, 0)
        if at < 0:
            if len(self.buffer) > MAX_PART_HEADERS:
                raise malformed("no boundary where the body starts")
            return False
        self._pos, self._state = at + len(self._delimiter), "delimiter"
        return True

    def _after_delimiter(self) -> bool:
        rest = self.buffer[self._pos : self._pos + 2]
        if len(rest) < 2:
            return False
        if rest == b"--":  # the closing delimiter: no more parts
            self.finish()
            return False
        end = self._find(b"\r\n", self._pos)
        if end < 0:
            if len(self.buffer) - self._pos > 128:
                raise malformed("a boundary line does not end")
            return False
        if self.buffer[self._pos : end].strip(b" \t"):
            raise malformed("unexpected bytes after a boundary")
        self._pos, self._state = end + 2, "headers"
        return True

    def _headers(self) -> bool:
        end = self._find(b"\r\n\r\n", self._pos - 2)  # a part without headers has "\r\n\r\n" at once
        if end < 0:
            if len(self.buffer) - self._pos > MAX_PART_HEADERS:
                raise malformed(f"the headers of a part exceed {MAX_PART_HEADERS} bytes")
            return False
        self._parts += 1
        if self._parts > MAX_PARTS_SCANNED:
            raise malformed(f"more than {MAX_PARTS_SCANNED} parts before the model field")
        name, is_file = _disposition(bytes(self.buffer[self._pos : end]))
        if self.model_span is not None and (is_file or self.fields.keys() >= WANTED_FIELDS):
            self.complete = True  # everything we need is in; this part streams through
            return False
        self._name = None if is_file else name
        self._pos, self._state = end + 4, "body"
        return True

    def _body(self) -> bool:
        end = self._find(b"\r\n" + self._delimiter, self._pos)
        wanted = self._name in WANTED_FIELDS
        if end < 0:
            if wanted and len(self.buffer) - self._pos > MAX_FIELD_VALUE:
                raise malformed(f"the {self._name} field is longer than {MAX_FIELD_VALUE} bytes")
            return False
        if wanted and self._name is not None:
            try:
                self.fields[self._name] = self.buffer[self._pos : end].decode("utf-8")
            except UnicodeDecodeError:
                raise malformed(f"the {self._name} field is not UTF-8 text") from None
            if self._name == "model":
                self.model_span = (self._pos, end)
        self._pos, self._state = end + 2 + len(self._delimiter), "delimiter"
        return True


class Upload:
    """The body as the upstream gets it: the rewritten head, then the rest as it arrives."""

    def __init__(
        self,
        receive: Receive,
        head: bytes,
        *,
        more: bool,
        received: int,
        limit: int,
        length: int | None,
        content_type: str,
    ) -> None:
        self._receive = receive
        self._head = head
        self._more = more
        self._received = received
        self._limit = limit
        self.headers = [("content-type", content_type)]
        if length is not None:
            self.headers.append(("content-length", str(length)))
        self.finished = asyncio.Event()  # the client's body was read to its end
        if not more:
            self.finished.set()

    async def chunks(self) -> AsyncIterator[bytes]:
        head, self._head = self._head, b""
        yield head
        while self._more:
            chunk, self._more = await read_chunk(self._receive)
            self._received += len(chunk)
            if self._received > self._limit:
                raise too_large(self._limit)
            if chunk:
                yield chunk
        self.finished.set()


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The upload exceeds the limit of {limit} bytes (RELAYGATE_MAX_UPLOAD_BYTES).",
        code="upload_too_large",
    )


async def read_chunk(receive: Receive) -> tuple[bytes, bool]:
    """The next chunk of the client's body and whether more follows."""
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    return message.get("body", b""), bool(message.get("more_body", False))


async def scan_upload(
    receive: Receive, content_type: bytes | None, declared: int | None, limit: int
) -> tuple[ModelFieldScan, int, bool]:
    """Read the body until the model field is found: the scan, bytes read, whether more follow."""
    boundary = boundary_of(content_type)
    if declared is not None and declared > limit:
        raise too_large(limit)
    scan = ModelFieldScan(boundary)
    received, more = 0, True
    while more and not scan.complete:
        chunk, more = await read_chunk(receive)
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        scan.feed(chunk)
    if not scan.complete:
        scan.finish()
    return scan, received, more


def rewrite_model(scan: ModelFieldScan, upstream_model: str) -> tuple[bytes, int]:
    """The bytes read so far with the model's value replaced; how much the length changed."""
    assert scan.model_span is not None
    start, end = scan.model_span
    value = upstream_model.encode()
    head = bytes(scan.buffer[:start]) + value + bytes(scan.buffer[end:])
    return head, len(value) - (end - start)
