"""Where the usage recorder's batches go: one writer per kind of store.

SQLite gets a dedicated thread with its own ``sqlite3`` connection: a batch costs one
hand-over from the event loop, and the rows are built and stored on that thread (through
aiosqlite and SQLAlchemy the same batch cost the router more than ten times as much CPU).
PostgreSQL goes through the engine's asyncpg connection, one ``executemany`` per table.
Either way a batch is one transaction: all of it is stored, or none of it and it is retried.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.usage.events import UsageEvent
from relaygate.usage.rows import (
    Row,
    event_rows,
    identity_rows,
    insert_events_sql,
    upsert_identities_sql,
)

# Rows per INSERT statement on SQLite. One statement of many rows binds them all under one
# hold of the GIL, where executemany would take it back from the event loop for every row;
# a fixed size keeps that statement in sqlite3's statement cache.
_SQLITE_ROWS_PER_STATEMENT = 100


class BatchWriter(Protocol):
    async def write(self, batch: Sequence[UsageEvent]) -> None: ...

    async def close(self) -> None: ...


def batch_writer(engine: AsyncEngine) -> BatchWriter:
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            raise ValueError("usage events need a SQLite file, not an in-memory database")
        return SqliteBatchWriter(database)
    return EngineBatchWriter(engine)


class SqliteBatchWriter:
    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relaygate-usage")
        self._connection: sqlite3.Connection | None = None
        row = insert_events_sql("qmark").partition(" VALUES ")
        self._insert_head, self._row_marks = row[0], row[2]
        self._upsert = upsert_identities_sql("qmark")

    async def write(self, batch: Sequence[UsageEvent]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._write, list(batch))

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    # --- on the writer thread --------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL"):
                connection.execute(f"PRAGMA {pragma}")
            self._connection = connection
        return self._connection

    def _write(self, batch: list[UsageEvent]) -> None:
        connection = self._connect()
        rows = event_rows(batch, "sqlite")
        identities = identity_rows(batch, "sqlite")
        try:
            connection.execute("BEGIN IMMEDIATE")
            self._insert(connection, rows)
            if identities:
                connection.executemany(self._upsert, identities)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _insert(self, connection: sqlite3.Connection, rows: list[Row]) -> None:
        size = _SQLITE_ROWS_PER_STATEMENT
        full = len(rows) - len(rows) % size
        if full:
            statement = f"{self._insert_head} VALUES {', '.join([self._row_marks] * size)}"
            for start in range(0, full, size):
                connection.execute(statement, [value for row in rows[start : start + size] for value in row])
        if full < len(rows):
            connection.executemany(f"{self._insert_head} VALUES {self._row_marks}", rows[full:])

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class EngineBatchWriter:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        paramstyle = engine.dialect.paramstyle
        self._insert = insert_events_sql(paramstyle)
        self._upsert = upsert_identities_sql(paramstyle)

    async def write(self, batch: Sequence[UsageEvent]) -> None:
        rows = event_rows(batch, self._dialect)
        identities = identity_rows(batch, self._dialect)
        async with self._engine.begin() as conn:
            await conn.exec_driver_sql(self._insert, rows)
            if identities:
                await conn.exec_driver_sql(self._upsert, identities)

    async def close(self) -> None:
        return None
