"""The migrations build exactly the schema ``tables.py`` describes, and keep usage events
across migration 0004 (usage events keyed by workspace, time and id)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from relaygate.store import tables
from relaygate.store.migrate import _config


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}"
    return str(request.getfixturevalue("empty_postgres_database"))


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(_config(connection), revision)


def _differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), tables.metadata))


def _stored_ids(connection: Connection) -> list[str]:
    return list(connection.scalars(select(tables.usage_events.c.id)))


def _sqlite_table_sql(connection: Connection) -> str:
    return str(connection.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'usage_events'")))


async def _migrate_with_an_event(url: str) -> tuple[list[Any], list[str], str | None]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, "0003")
            await conn.exec_driver_sql(
                "INSERT INTO usage_events (id, workspace_id, api_key_id, endpoint, status, stream, "
                "prompt_tokens, completion_tokens, total_tokens, cost_nano, latency_ms, attempts, "
                "request_id, created_at) VALUES ('e-1', 'ws-1', 'key-1', 'chat.completions', 200, "
                "false, 3, 4, 7, 1234, 1.5, 1, 'req-1', '2026-12-03 10:00:00.000000')"
            )
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, "head")
        async with engine.connect() as conn:
            differences = await conn.run_sync(_differences)
            ids = await conn.run_sync(_stored_ids)
            sql = await conn.run_sync(_sqlite_table_sql) if engine.dialect.name == "sqlite" else None
        return differences, ids, sql
    finally:
        await engine.dispose()


def test_migrations_build_the_described_schema_and_keep_events(database_url: str) -> None:
    differences, ids, sqlite_sql = asyncio.run(_migrate_with_an_event(database_url))
    assert differences == []
    assert ids == ["e-1"]
    if sqlite_sql is not None:
        assert sqlite_sql.rstrip().endswith("WITHOUT ROWID")
        assert "PRIMARY KEY (workspace_id, created_at, id)" in sqlite_sql
