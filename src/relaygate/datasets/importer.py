"""Reading an uploaded CSV or JSONL file into datapoints: every line checked, every bad one
reported by its number, nothing kept unless all are good.

The file streams through (``lines.py``); checked datapoints go to a spool (in memory up
to 1 MiB, then a temporary file) so that a large file costs bounded memory, and are
stored from the spool, in one transaction, only when no line was bad. The whole file is
bounded too (``bounded``: 413 past the limit).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import IO, Literal

import orjson

from relaygate.errors import InvalidRequest, PayloadTooLarge

from .csv_format import BadHeader, CsvColumns, parse_record
from .datapoints import Datapoint, check_datapoint
from .lines import Line, csv_records, numbered_lines
from .problems import InvalidDatapoint

Format = Literal["csv", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl")
MAX_REPORTED = 100  # bad lines listed in the answer; the count covers all of them
_SPOOL_IN_MEMORY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str


@dataclass
class ImportResult:
    """What reading the file found: the good datapoints (spooled) and the bad lines."""

    spool: DatapointSpool
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0

    def fail(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(LineError(line, message))


class DatapointSpool:
    """Checked datapoints, one JSON line each, in memory up to 1 MiB, then on disk."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        self.count = 0

    def add(self, datapoint: Datapoint) -> None:
        self._file.write(orjson.dumps(datapoint) + b"\n")
        self.count += 1

    def batches(self, size: int) -> Iterator[list[Datapoint]]:
        self._file.seek(0)
        batch: list[Datapoint] = []
        for line in self._file:
            batch.append(orjson.loads(line))
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def close(self) -> None:
        self._file.close()


async def bounded(chunks: AsyncIterator[bytes], limit: int, setting: str) -> AsyncIterator[bytes]:
    """The chunks, until they pass ``limit`` bytes in all: then a 413 naming ``setting``."""
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(f"The file is larger than {limit} bytes ({setting}); split it into parts.")
        yield chunk


def _line_error(number: int, error: Exception) -> str:
    """``Line 4 is not JSON (...)``, ``Line 4: messages[0].role must be one of ...``."""
    if isinstance(error, InvalidDatapoint):
        return (
            f"Line {number}: {error.param} {error.problem}"
            if error.param
            else f"Line {number} {error.problem}"
        )
    if isinstance(error, InvalidRequest):
        return f"Line {number}: {error.message}"
    return f"Line {number} {error}"


def _jsonl_datapoint(text: str) -> Datapoint:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"is not JSON ({exc.msg}).") from None
    if not isinstance(value, dict):
        raise ValueError("is not a JSON object (one datapoint per line).")
    return check_datapoint(value)


async def _read_jsonl(lines: AsyncIterator[Line], result: ImportResult) -> None:
    async for line in lines:
        if line.problem is not None:
            result.fail(line.number, f"Line {line.number} {line.problem}")
            continue
        if not line.text.strip():
            continue
        try:
            result.spool.add(_jsonl_datapoint(line.text))
        except (InvalidRequest, ValueError) as exc:
            result.fail(line.number, _line_error(line.number, exc))


async def _read_csv(lines: AsyncIterator[Line], result: ImportResult) -> None:
    columns: CsvColumns | None = None
    async for record in csv_records(lines):
        if record.problem is not None:
            result.fail(record.number, f"Line {record.number} {record.problem}")
            if columns is None:
                return
            continue
        try:
            cells = parse_record(record.text)
            if columns is None:
                columns = CsvColumns.from_header(cells)
                continue
            result.spool.add(columns.datapoint(cells))
        except BadHeader as exc:
            result.fail(record.number, f"The header (line {record.number}) {exc}")
            return
        except (InvalidRequest, ValueError) as exc:
            result.fail(record.number, _line_error(record.number, exc))
    if columns is None:
        result.fail(1, "The file is empty: a CSV file starts with a header line naming its columns.")


async def read_file(chunks: AsyncIterator[bytes], file_format: Format) -> ImportResult:
    """Every line of the file checked; the caller stores ``result.spool`` only when
    ``result.error_count`` is 0, and closes the spool either way."""
    result = ImportResult(DatapointSpool())
    lines = numbered_lines(chunks)
    try:
        await (_read_csv(lines, result) if file_format == "csv" else _read_jsonl(lines, result))
    except BaseException:
        result.spool.close()
        raise
    return result
