"""An uploaded file's lines as they arrive, numbered, each bounded; CSV records from them.

The file comes in chunks and is never held whole: bytes are split at newlines, each line
decoded on its own (so a bad byte is reported on its line), ``\\r\\n`` and a leading
byte-order mark are taken off. A line longer than the bound is skipped to its end and
reported, rather than buffered. A CSV record may span lines (a quoted field with
newlines): RFC 4180 doubles quotes inside quoted fields, so a record ends at the first
line where the count of ``"`` seen in it is even.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

MAX_LINE_BYTES = 1024 * 1024
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Line:
    """One line (or CSV record) of the file: its text, or why it could not be read."""

    number: int  # 1-based; a CSV record is numbered by its first line
    text: str = ""
    problem: str | None = None


def _decoded(raw: bytes, number: int) -> Line:
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Line(number, problem=f"is not UTF-8 text (byte {exc.start + 1} of the line).")
    return Line(number, text.removeprefix(_BOM) if number == 1 else text)


def _too_long(number: int, limit: int) -> Line:
    return Line(number, problem=f"is longer than {limit} bytes.")


async def numbered_lines(chunks: AsyncIterator[bytes], max_line: int = MAX_LINE_BYTES) -> AsyncIterator[Line]:
    """Every line of the file, blank ones included (their numbers count)."""
    pending = bytearray()
    number = 0
    skipping = False  # in the rest of a line already reported as too long
    async for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            number += 1
            if skipping:
                skipping = False
            elif len(pending) + end - start > max_line:
                yield _too_long(number, max_line)
            else:
                pending += chunk[start:end]
                yield _decoded(bytes(pending), number)
            pending.clear()
            start = end + 1
        if not skipping:
            pending += chunk[start:]
            if len(pending) > max_line:
                pending.clear()
                skipping = True
                yield _too_long(number + 1, max_line)
    if pending and not skipping:
        yield _decoded(bytes(pending), number + 1)


async def csv_records(lines: AsyncIterator[Line], max_record: int = MAX_LINE_BYTES) -> AsyncIterator[Line]:
    """Lines joined into CSV records (a quoted field may hold newlines); blank lines between
    records are left out."""
    parts: list[str] = []
    first = 0
    quotes = 0
    size = 0
    async for line in lines:
        if line.problem is not None:
            if parts:
                yield Line(first, problem=f"starts a record whose line {line.number} {line.problem}")
                parts, quotes, size = [], 0, 0
            else:
                yield line
            continue
        if not parts:
            if not line.text.strip():
                continue
            first = line.number
        parts.append(line.text)
        quotes += line.text.count('"')
        size += len(line.text) + 1
        if size > max_record:
            yield Line(first, problem=f"starts a record longer than {max_record} characters.")
            parts, quotes, size = [], 0, 0
        elif quotes % 2 == 0:
            yield Line(first, "\n".join(parts))
            parts, quotes, size = [], 0, 0
    if parts:
        yield Line(first, problem="starts a quoted field that is never closed.")
