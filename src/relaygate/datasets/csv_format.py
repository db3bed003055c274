"""Datapoints as CSV: a header naming the columns, one datapoint per record.

Columns: ``input.<name>`` (or ``inputs.<name>``) for each input variable, ``messages``
(the chat as a JSON array) and ``expected_output``. An empty cell is an absent value.
CSV has no types: input values read back as strings, and a value that is not a string
(a number, a list) is written as its JSON text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from relaygate.spreadsheet import csv_line, unguard

from .datapoints import Datapoint, check_datapoint
from .problems import InvalidDatapoint

INPUT_PREFIXES = ("input.", "inputs.")
ACCEPTED_COLUMNS = "input.<name> (or inputs.<name>), messages, expected_output"


class BadHeader(ValueError):
    """The header line cannot be read as datapoint columns; nothing after it can either."""


def parse_record(text: str) -> list[str]:
    """The cells of one CSV record (which may hold newlines inside quoted fields)."""
    try:
        rows = list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error as exc:
        raise ValueError(f"is not valid CSV ({exc}).") from None
    if len(rows) != 1:
        raise ValueError("is not one CSV record.")
    return rows[0]


@dataclass(frozen=True)
class CsvColumns:
    """What each column of a file holds: ("input", name), ("messages", ""), ("expected_output", "")."""

    columns: tuple[tuple[str, str], ...]

    @classmethod
    def from_header(cls, cells: Sequence[str]) -> CsvColumns:
        columns: list[tuple[str, str]] = []
        for cell in cells:
            name = cell.strip()
            prefix = next((p for p in INPUT_PREFIXES if name.startswith(p)), None)
            if prefix is not None and name[len(prefix) :]:
                column = ("input", name[len(prefix) :])
            elif name in ("messages", "expected_output"):
                column = (name, "")
            else:
                raise BadHeader(f"has the unknown column {name!r}; the columns are {ACCEPTED_COLUMNS}.")
            if column in columns:
                raise BadHeader(f"names the column {name!r} twice.")
            columns.append(column)
        if not columns:
            raise BadHeader(f"names no column; the columns are {ACCEPTED_COLUMNS}.")
        return cls(tuple(columns))

    def datapoint(self, cells: Sequence[str]) -> Datapoint:
        """The datapoint of one record's cells, checked like any other datapoint."""
        if len(cells) != len(self.columns):
            raise ValueError(f"has {len(cells)} cells; the header names {len(self.columns)} columns.")
        body: dict[str, Any] = {}
        inputs: dict[str, str] = {}
        for (kind, name), cell in zip(self.columns, cells, strict=True):
            if cell == "":
                continue
            if kind == "input":
                inputs[name] = unguard(cell)
            elif kind == "messages":
                body["messages"] = _json_cell(cell)
            else:
                body["expected_output"] = unguard(cell)
        if inputs:
            body["inputs"] = inputs
        if not body:
            raise ValueError("has no value in any column.")
        return check_datapoint(body)


def _json_cell(cell: str) -> Any:
    try:
        return orjson.loads(cell)
    except orjson.JSONDecodeError as exc:
        raise InvalidDatapoint("messages", f"must be a JSON array of chat messages ({exc.msg}).") from None


def input_names(datapoints: Iterable[Datapoint]) -> list[str]:
    """Every input variable the datapoints use, in the order first met: the export's columns."""
    names: dict[str, None] = {}
    for datapoint in datapoints:
        names.update(dict.fromkeys(datapoint.get("inputs") or ()))
    return list(names)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def header_line(names: Sequence[str]) -> str:
    return csv_line([*(f"input.{name}" for name in names), "messages", "expected_output"])


def datapoint_line(datapoint: Datapoint, names: Sequence[str]) -> str:
    inputs = datapoint.get("inputs") or {}
    messages = datapoint.get("messages")
    return csv_line(
        [
            *(_cell(inputs.get(name)) for name in names),
            _cell(messages) if messages is not None else "",
            datapoint.get("expected_output") or "",
        ]
    )
