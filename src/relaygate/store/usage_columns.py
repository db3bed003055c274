"""What the usage writers must know of the usage tables' columns, as plain constants.

The SQLite writer child process (``sqlite_usage_writer.py``) needs these facts to turn events
into rows. Read off the SQLAlchemy tables of ``tables.py``, they made the child import
SQLAlchemy: 30 of its 46 MB RSS, for a process that otherwise needs only ``sqlite3``,
``pickle`` and ``orjson`` (bench/README.md, memory). ``tests/store/test_usage_columns.py``
derives them from ``tables.py`` again and fails when the two differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class UsageTable:
    name: str
    # Columns whose Python value the drivers cannot take as it is: JSON travels as JSON text
    # on both stores, and timestamps as text on SQLite (asyncpg takes datetimes).
    json_columns: frozenset[str]
    timestamp_columns: frozenset[str]
    # Columns the store fills itself when an INSERT leaves them out (their server default),
    # and the Python value that default reads back as.
    store_defaults: Mapping[str, int | bool]


EVENTS = UsageTable(
    name="usage_events",
    json_columns=frozenset({"thread_tags", "request_metadata", "documents", "attempt_log"}),
    timestamp_columns=frozenset({"created_at"}),
    store_defaults={
        "cached_tokens": 0,
        "reasoning_tokens": 0,
        "images": 0,
        "estimated": False,
        "fallback_used": False,
        "cache_hit": False,
        "searches": 0,
        "search_cost_nano": 0,
    },
)

IDENTITIES = UsageTable(
    name="identities",
    json_columns=frozenset({"metadata"}),
    timestamp_columns=frozenset({"first_seen_at", "last_seen_at"}),
    store_defaults={},
)
