"""The usage writers' column facts (``store/usage_columns.py``: plain constants, so the SQLite
writer process needs no SQLAlchemy) are those of the tables in ``store/tables.py``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import JSON, DateTime, Table
from sqlalchemy.sql.elements import False_, True_

from relaygate.store import tables
from relaygate.store.usage_columns import EVENTS, IDENTITIES
from relaygate.store.usage_rows import IDENTITY_COLUMNS
from relaygate.usage.events import COLUMNS


def _python_value(server_default: Any) -> object:
    """What a server default reads back as in Python; its SQL as it is when not one we know."""
    sql = getattr(server_default, "arg", server_default)
    if isinstance(sql, False_ | True_):
        return isinstance(sql, True_)
    if isinstance(sql, str) and sql.isdigit():
        return int(sql)
    return sql


def _facts(table: Table) -> dict[str, object]:
    """``UsageTable``'s fields, read off the SQLAlchemy table."""
    columns = list(table.columns)

    def of_type(kind: type[Any]) -> frozenset[str]:
        return frozenset(column.name for column in columns if isinstance(column.type, kind))

    return {
        "name": table.name,
        "json_columns": of_type(JSON),
        "timestamp_columns": of_type(DateTime),
        "store_defaults": {
            column.name: _python_value(column.server_default)
            for column in columns
            if column.server_default is not None
        },
    }


def test_the_column_facts_are_those_of_the_tables() -> None:
    assert asdict(EVENTS) == _facts(tables.usage_events)
    assert asdict(IDENTITIES) == _facts(tables.identities)


def test_the_rows_the_writers_build_hold_every_column_of_their_table() -> None:
    assert sorted(COLUMNS) == sorted(tables.usage_events.columns.keys())
    assert sorted(IDENTITY_COLUMNS) == sorted(tables.identities.columns.keys())
