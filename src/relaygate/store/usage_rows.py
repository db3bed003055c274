"""Usage events and identities as plain driver rows, and the SQL that stores them.

A batch comes from the recorder as ``Queued`` items (``usage/recorder.py``): each event's
column values as one tuple, created_at in microseconds, and the identity profile it carried.

The writers hand rows to the database driver as tuples, skipping SQLAlchemy's per-row
parameter processing (about 30 us per event, a tenth of a whole router call). Values
are converted here for the two stores we run on: SQLite (its text date format; sqlite3
stores booleans as 0/1 itself) and PostgreSQL through asyncpg (native datetimes and
booleans). JSON columns travel as JSON text on both.

The SQLite writer child process runs on this module, so it imports nothing heavy: the
columns' facts come from ``usage_columns.py``, not from the SQLAlchemy tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from relaygate.store.records import from_micros
from relaygate.store.usage_columns import EVENTS, IDENTITIES, UsageTable
from relaygate.usage.events import COLUMNS

if TYPE_CHECKING:
    from relaygate.usage.recorder import Queued, Row

Converter = tuple[int, Callable[[Any], Any]]

IDENTITY_COLUMNS = (
    "workspace_id",
    "id",
    "display_name",
    "email",
    "metadata",
    "first_seen_at",
    "last_seen_at",
)
_PROFILE = ("display_name", "email", "metadata")


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def sqlite_datetime(value: datetime) -> str:
    """SQLAlchemy's SQLite storage format, ``2026-11-22 10:00:00.000123`` (UTC)."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def sqlite_datetimes(values: Sequence[int]) -> list[str]:
    """``sqlite_datetime`` of a column of timestamps in microseconds: the events of a slice
    mostly share their second, so its text is made once per second and only the microseconds
    per event (formatting each datetime was a seventh of the writer process's work)."""
    out: list[str] = []
    second, prefix = None, ""
    for value in values:
        key, fraction = divmod(value, 1_000_000)
        if key != second:  # the prefix is "2026-11-22 10:00:00."
            second, prefix = key, sqlite_datetime(from_micros(value - fraction))[:20]
        out.append(f"{prefix}{fraction:06d}")
    return out


def _converters(
    columns: Sequence[str], table: UsageTable, timestamps: Callable[[Any], Any] | None
) -> list[Converter]:
    """(column index, conversion) for the columns whose Python value the driver cannot take:
    JSON, and timestamps when ``timestamps`` is given."""
    converters: list[Converter] = []
    for index, name in enumerate(columns):
        if name in table.json_columns:
            converters.append((index, _json))
        elif name in table.timestamp_columns and timestamps is not None:
            converters.append((index, timestamps))
    return converters


def _convert(values: Sequence[Any], converters: Sequence[Converter]) -> Row:
    row = list(values)
    for index, convert in converters:
        if row[index] is not None:
            row[index] = convert(row[index])
    return tuple(row)


# Index in COLUMNS -> the value the store gives that column when an INSERT leaves it out.
_STORE_FILLS = {COLUMNS.index(name): value for name, value in EVENTS.store_defaults.items()}
_WORKSPACE, _IDENTITY = COLUMNS.index("workspace_id"), COLUMNS.index("identity_id")
_CREATED = COLUMNS.index("created_at")
# Event timestamps come as microseconds (SQLite's are formatted a column at a time, below);
# identities' as datetimes, and only SQLite needs them as text.
_EVENT_CONVERTERS = {
    "sqlite": _converters(COLUMNS, EVENTS, None),
    "postgresql": _converters(COLUMNS, EVENTS, from_micros),
}
_IDENTITY_CONVERTERS = {
    "sqlite": _converters(IDENTITY_COLUMNS, IDENTITIES, sqlite_datetime),
    "postgresql": _converters(IDENTITY_COLUMNS, IDENTITIES, None),
}


def event_rows(batch: Sequence[Queued], dialect: str) -> list[Row]:
    """Rows for the driver, one per event: JSON columns as text and, on SQLite, timestamps
    in its text format."""
    converters = _EVENT_CONVERTERS[dialect]
    return [_convert(values, converters) for values, _ in batch]


def sqlite_event_columns(batch: Sequence[Queued]) -> tuple[tuple[str, ...], list[Row]]:
    """The batch for SQLite, column-wise: only the columns some event of the batch has a
    value in (the others are NULL by default), and a row of those per event.

    sqlite3 binds each NULL through its adapter lookup, about as dear as binding a string;
    a usage row has a dozen columns that are almost always NULL (audio, identity, thread,
    bodies...). Leaving them out of the statement took a third off the writer's work.
    Columns the store fills itself (``server_default``: zero counts, false flags) are left
    out too when every event of the batch has that value."""
    columns: list[Sequence[Any]] = list(zip(*(values for values, _ in batch), strict=True))
    size = len(batch)
    kept = [index for index, column in enumerate(columns) if column.count(_STORE_FILLS.get(index)) != size]
    for index, convert in _EVENT_CONVERTERS["sqlite"]:
        if index in kept:
            columns[index] = [None if value is None else convert(value) for value in columns[index]]
    columns[_CREATED] = sqlite_datetimes(columns[_CREATED])
    names = tuple(COLUMNS[index] for index in kept)
    return names, list(zip(*(columns[index] for index in kept), strict=True))


def identity_rows(batch: Sequence[Queued], dialect: str) -> list[Row]:
    """One row per identity the batch names: first and last seen, and the newest profile
    fields it carried. Sorted, so concurrent PostgreSQL writers lock rows in one order."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for values, profile in batch:
        identity_id = values[_IDENTITY]
        if identity_id is None:
            continue
        workspace_id, created_at = values[_WORKSPACE], from_micros(values[_CREATED])
        row = found.setdefault(
            (workspace_id, identity_id),
            {"workspace_id": workspace_id, "id": identity_id, "first_seen_at": created_at},
        )
        row["last_seen_at"] = created_at
        for field in _PROFILE:
            if profile and profile.get(field) is not None:
                row[field] = profile[field]
    converters = _IDENTITY_CONVERTERS[dialect]
    return [
        _convert([found[key].get(column) for column in IDENTITY_COLUMNS], converters) for key in sorted(found)
    ]


def _marks(count: int, paramstyle: str, first: int = 1) -> str:
    if paramstyle == "qmark":  # sqlite3
        return ", ".join("?" for _ in range(count))
    if paramstyle == "numeric_dollar":  # asyncpg
        return ", ".join(f"${number}" for number in range(first, first + count))
    raise ValueError(f"no usage writer for the {paramstyle} parameter style")


def insert_events_sql(paramstyle: str, columns: Sequence[str] = COLUMNS, rows: int = 1) -> str:
    """The INSERT of ``rows`` events (several rows per statement cost less than as many
    statements), of the given columns."""
    width = len(columns)
    values = ", ".join(f"({_marks(width, paramstyle, 1 + row * width)})" for row in range(rows))
    return f"INSERT INTO {EVENTS.name} ({', '.join(columns)}) VALUES {values}"  # noqa: S608


def upsert_identities_sql(paramstyle: str) -> str:
    """New identities are inserted; known ones get last-seen and any profile field sent."""
    table = IDENTITIES.name
    refresh = ", ".join(f"{field} = COALESCE(excluded.{field}, {table}.{field})" for field in _PROFILE)
    return (
        f"INSERT INTO {table} ({', '.join(IDENTITY_COLUMNS)}) "  # noqa: S608
        f"VALUES ({_marks(len(IDENTITY_COLUMNS), paramstyle)}) "
        f"ON CONFLICT (workspace_id, id) DO UPDATE SET last_seen_at = excluded.last_seen_at, {refresh}"
    )
