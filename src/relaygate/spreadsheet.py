"""CSV lines a spreadsheet opens as text: a cell that would start a formula stays text.

Exports carry what clients and models wrote (key and identity names, metadata, answers,
datapoints). A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is a formula to Excel, LibreOffice and Google Sheets ("CSV injection"); such a cell gets a
leading apostrophe, which spreadsheets read as "this is text" and do not show. Numbers stay
numbers (``-5`` is left alone). Reading relaygate's own CSV back (a dataset import) takes
the apostrophe off again with ``unguard``, so a dataset survives the round trip.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def guard(cell: str) -> str:
    """``cell`` as a spreadsheet shows it without running it."""
    if _FORMULA.match(cell) and _NUMBER.fullmatch(cell) is None:
        return "'" + cell
    return cell


def unguard(cell: str) -> str:
    """The cell ``guard`` was given (a hand-written ``'=x`` reads as ``=x``, as in a spreadsheet)."""
    if cell.startswith("'") and _FORMULA.match(cell, 1) and _NUMBER.fullmatch(cell, 1) is None:
        return cell[1:]
    return cell


def csv_line(cells: Iterable[object]) -> str:
    """One CSV record with its newline; ``None`` is an empty cell, text cells are guarded."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        ["" if cell is None else guard(cell) if isinstance(cell, str) else cell for cell in cells]
    )
    return buffer.getvalue()
