"""The one file of a multipart/form-data upload, streamed: what a browser's file input sends.

Only what an import needs is read: the parts before the file (at most a few small
fields, e.g. ``format``), the file part's headers (its name tells the format), then its
bytes, handed on chunk by chunk up to the closing delimiter. Nothing is buffered beyond
one delimiter's length; headers and fields are bounded.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from relaygate.errors import InvalidRequest

MAX_PART_HEADERS = 8 * 1024
MAX_FIELD_VALUE = 256
MAX_PARTS_BEFORE_FILE = 16

_BOUNDARY = re.compile(r"""boundary=(?:"([^"]{1,70})"|([0-9A-Za-z'()+_,\-./:=?]{1,70}))""")
_DISPOSITION = re.compile(rb"""(?:^|;)\s*(name|filename)=(?:"([^"]*)"|([^;\s]+))""", re.IGNORECASE)


def malformed(detail: str) -> InvalidRequest:
    return InvalidRequest(f"The multipart/form-data body is malformed: {detail}.", code="invalid_multipart")


def boundary_of(content_type: str) -> bytes:
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise malformed("the Content-Type has no valid boundary")
    return (match.group(1) or match.group(2)).encode("latin-1")


def _disposition(headers: bytes) -> dict[str, str]:
    for line in headers.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-disposition":
            return {
                match.group(1).decode().lower(): (match.group(2) or match.group(3) or b"").decode(
                    "utf-8", "replace"
                )
                for match in _DISPOSITION.finditer(value)
            }
    raise malformed("a part has no Content-Disposition header")


class MultipartFile:
    """``await open()`` reads up to the file part; ``content()`` streams the file's bytes."""

    def __init__(self, chunks: AsyncIterator[bytes], boundary: bytes) -> None:
        self._chunks = chunks
        self._delimiter = b"--" + boundary
        self._buffer = bytearray()
        self._ended = False
        self.filename: str | None = None
        self.fields: dict[str, str] = {}

    async def _fill(self) -> bool:
        if self._ended:
            return False
        chunk = await anext(self._chunks, None)
        if chunk is None:
            self._ended = True
            return False
        self._buffer += chunk
        return True

    async def _until(self, marker: bytes, limit: int, what: str) -> bytes:
        """The bytes before ``marker`` (consumed with it), at most ``limit`` of them."""
        while (index := self._buffer.find(marker)) == -1:
            if len(self._buffer) > limit + len(marker):
                raise malformed(f"{what} is longer than {limit} bytes")
            if not await self._fill():
                raise malformed(f"the body ends inside {what}")
        found = bytes(self._buffer[:index])
        del self._buffer[: index + len(marker)]
        if len(found) > limit:
            raise malformed(f"{what} is longer than {limit} bytes")
        return found

    async def _another_part(self) -> bool:
        """After a delimiter: CRLF (another part follows) or ``--`` (the body's end)."""
        while len(self._buffer) < 2:
            if not await self._fill():
                raise malformed("the body ends inside a delimiter")
        ending = bytes(self._buffer[:2])
        del self._buffer[:2]
        if ending not in (b"\r\n", b"--"):
            raise malformed("a delimiter is followed by neither CRLF nor '--'")
        return ending == b"\r\n"

    async def open(self) -> None:
        """Read up to the first file part's content, keeping the small fields before it."""
        await self._until(self._delimiter + b"\r\n", MAX_PART_HEADERS, "the preamble")
        for _ in range(MAX_PARTS_BEFORE_FILE):
            disposition = _disposition(await self._until(b"\r\n\r\n", MAX_PART_HEADERS, "a part's headers"))
            if "filename" in disposition or disposition.get("name") == "file":
                self.filename = disposition.get("filename")
                return
            name = disposition.get("name", "")
            value = await self._until(b"\r\n" + self._delimiter, MAX_FIELD_VALUE, f"the field {name!r}")
            self.fields[name] = value.decode("utf-8", "replace")
            if not await self._another_part():
                break
        raise InvalidRequest(
            "The multipart/form-data body has no file part: send the file in a field named 'file'.",
            param="file",
        )

    async def content(self) -> AsyncIterator[bytes]:
        """The file's bytes up to the delimiter that closes its part."""
        marker = b"\r\n" + self._delimiter
        keep = len(marker) - 1  # a marker may straddle two chunks
        while True:
            index = self._buffer.find(marker)
            if index != -1:
                if index:
                    yield bytes(self._buffer[:index])
                return
            if len(self._buffer) > keep:
                yield bytes(self._buffer[:-keep])
                del self._buffer[:-keep]
            if not await self._fill():
                raise malformed("the body ends inside the file part")
