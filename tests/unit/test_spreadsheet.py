"""Cells a spreadsheet would run as formulas leave relaygate's CSV as text, and come back."""

from __future__ import annotations

import pytest

from relaygate.spreadsheet import csv_line, guard, unguard


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=x", "'\t=x"),
        ("'=x", "''=x"),
        ("-5", "-5"),
        ("+1.5e3", "+1.5e3"),
        ("plain", "plain"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_formulas_are_kept_as_text_and_read_back(cell: str, shown: str) -> None:
    assert guard(cell) == shown
    assert unguard(guard(cell)) == cell


def test_a_line_guards_text_only() -> None:
    assert csv_line(["=x", None, 3, -1.5, "a,b"]) == '\'=x,,3,-1.5,"a,b"\n'
