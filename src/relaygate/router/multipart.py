"""Multipart uploads (image edits and variations, transcriptions, translations), streamed.

relaygate does not parse multipart bodies (python-multipart has had many DoS CVEs). A
small scanner reads the parts only up to the ``model`` field and the simple fields after
it, until the first file (the OpenAI SDKs send every field before the files), bounded at
every step; then the body goes on to the upstream as it came, with the model's value
replaced and relaygate's own routing fields (``form_routing.py``) taken out. What was
read until then is held; everything after it streams through chunk by chunk, unless the
call may need a second attempt (retries, fallbacks, load balancing): then the rest is
read whole first, so that each attempt can send the body again.

Limits: the whole body (``RELAYGATE_MAX_UPLOAD_BYTES``, 413 past it), the headers of one
part, the value of a field we read, the number of parts before the first file.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable

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
    """Finds the ``model`` field of a multipart body fed chunk by chunk, and the fields
    ``routing`` names (kept by name and value, with the span of their part to cut out).

    ``complete`` turns true once the model field was read and the scan reached a file
    part or the end of the body. ``buffer`` holds all bytes fed.
    """

    def __init__(self, boundary: bytes, routing: Callable[[str], bool]) -> None:
        self.buffer = bytearray()
        self.fields: dict[str, str] = {}
        self.model_span: tuple[int, int] | None = None
        self.routing_fields: list[tuple[str, str]] = []
        self.routing_spans: list[tuple[int, int]] = []  # whole parts, delimiter line included
        self.complete = False
        self._is_routing = routing
        self._delimiter = b"--" + boundary
        self._state = "preamble"
        self._pos = 0  # where the current state's bytes start
        self._search = 0  # where the next search may start (no rescanning)
        self._name: str | None = None
        self._part_start = 0  # where the current part's delimiter line starts
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
        self._part_start = at
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
            raise malformed(f"more than {MAX_PARTS_SCANNED} parts before the first file")
        name, is_file = _disposition(bytes(self.buffer[self._pos : end]))
        if self.model_span is not None and is_file:
            self.complete = True  # everything we need is in; this part streams through
            return False
        self._name = None if is_file else name
        self._pos, self._state = end + 4, "body"
        return True

    def _body(self) -> bool:
        end = self._find(b"\r\n" + self._delimiter, self._pos)
        name = self._name
        routing = name is not None and self._is_routing(name)
        wanted = name in WANTED_FIELDS or routing
        # The buffer's tail may hold the start of the next delimiter: bounded by the value
        # plus that much while no delimiter is seen, by the value alone once one is.
        value_end = end if end >= 0 else len(self.buffer) - len(self._delimiter) - 2
        if wanted and value_end - self._pos > MAX_FIELD_VALUE:
            raise malformed(f"the {name} field is longer than {MAX_FIELD_VALUE} bytes")
        if end < 0:
            return False
        if wanted and name is not None:
            try:
                value = self.buffer[self._pos : end].decode("utf-8")
            except UnicodeDecodeError:
                raise malformed(f"the {name} field is not UTF-8 text") from None
            if routing:
                self.routing_fields.append((name, value))
                self.routing_spans.append((self._part_start, end + 2))
            else:
                self.fields[name] = value
            if name == "model":
                self.model_span = (self._pos, end)
        self._part_start = end + 2
        self._pos, self._state = end + 2 + len(self._delimiter), "delimiter"
        return True


class UploadHead:
    """The bytes read before streaming began, as an upstream gets them: the model's value
    replaced by that upstream's model id, relaygate's routing fields cut out."""

    def __init__(self, scan: ModelFieldScan) -> None:
        if scan.model_span is None:  # built only once the scan found the model field
            raise ValueError("UploadHead needs a scan that found the model field")
        self._buffer = bytes(scan.buffer)
        model_start, model_end = scan.model_span
        cuts = [(start, end, False) for start, end in scan.routing_spans]
        self._edits = sorted([*cuts, (model_start, model_end, True)])
        self._kept = len(self._buffer) - sum(end - start for start, end, _ in self._edits)

    @property
    def read(self) -> int:
        """How many bytes of the client's body the head holds."""
        return len(self._buffer)

    def length_for(self, upstream_model: str) -> int:
        """``len(for_model(upstream_model))``, without building it."""
        return self._kept + len(upstream_model.encode())

    def for_model(self, upstream_model: str) -> bytes:
        pieces: list[bytes] = []
        position = 0
        for start, end, is_model in self._edits:
            pieces.append(self._buffer[position:start])
            if is_model:
                pieces.append(upstream_model.encode())
            position = end
        pieces.append(self._buffer[position:])
        return b"".join(pieces)


class Upload:
    """The body as the upstream gets it: the rewritten head, then the rest as it arrives
    (once), or the rest read whole (``read_whole``) for as many attempts as needed."""

    def __init__(
        self,
        receive: Receive,
        head: UploadHead,
        *,
        more: bool,
        received: int,
        limit: int,
        declared: int | None,
        content_type: str,
    ) -> None:
        self._receive = receive
        self._head = head
        self._more = more
        self._received = received
        self._limit = limit
        self._declared = declared
        self._content_type = content_type
        self._rest: bytes | None = None if more else b""  # the remainder, once read whole
        self._streamed = False
        self.finished = asyncio.Event()  # the client's body was read to its end
        if not more:
            self.finished.set()

    @property
    def replayable(self) -> bool:
        return self._rest is not None

    def headers(self, upstream_model: str) -> list[tuple[str, str]]:
        headers = [("content-type", self._content_type)]
        head = self._head.length_for(upstream_model)
        if self._rest is not None:
            headers.append(("content-length", str(head + len(self._rest))))
        elif self._declared is not None:
            headers.append(("content-length", str(self._declared - self._head.read + head)))
        return headers

    async def _remainder(self) -> AsyncIterator[bytes]:
        while self._more:
            chunk, self._more = await read_chunk(self._receive)
            self._received += len(chunk)
            if self._received > self._limit:
                raise too_large(self._limit)
            if chunk:
                yield chunk
        self.finished.set()

    async def read_whole(self) -> None:
        """Read the rest of the client's body now, so that every attempt can send it."""
        self._rest = b"".join([chunk async for chunk in self._remainder()])

    async def chunks(self, upstream_model: str) -> AsyncIterator[bytes]:
        yield self._head.for_model(upstream_model)
        if self._rest is not None:
            if self._rest:
                yield self._rest
            return
        if self._streamed:
            raise RuntimeError("a streamed upload can be sent once; read_whole() first to send it again")
        self._streamed = True
        async for chunk in self._remainder():
            yield chunk


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
    receive: Receive,
    content_type: bytes | None,
    declared: int | None,
    limit: int,
    routing: Callable[[str], bool],
) -> tuple[ModelFieldScan, int, bool]:
    """Read the body until the model field is found: the scan, bytes read, whether more follow."""
    boundary = boundary_of(content_type)
    if declared is not None and declared > limit:
        raise too_large(limit)
    scan = ModelFieldScan(boundary, routing)
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
