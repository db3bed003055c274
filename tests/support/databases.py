"""Throw-away PostgreSQL databases for test servers.

With ``RELAYGATE_TEST_DATABASE_URL`` set (``postgresql+asyncpg://postgres@127.0.0.1:5432/test``),
every relaygate the tests start gets a database of its own, created from that URL's
server and dropped when the test session ends, so tests (and other test runs on the
same server) never see each other's rows.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets

import asyncpg
from sqlalchemy.engine import make_url

ENV = "RELAYGATE_TEST_DATABASE_URL"

_created: list[tuple[str, str]] = []


def configured_url() -> str | None:
    return os.environ.get(ENV) or None


def _dsn(url: str, database: str) -> str:
    """The plain libpq form asyncpg wants, for ``database`` on the server of ``url``."""
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


async def _execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_dsn(url, make_url(url).database or "postgres"), timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_database(base_url: str) -> str:
    """Create ``relaygate_test_<random>`` beside ``base_url``'s database; return its URL."""
    name = f"relaygate_test_{secrets.token_hex(6)}"
    asyncio.run(_execute(base_url, f'CREATE DATABASE "{name}"'))
    _created.append((base_url, name))
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_created() -> None:
    while _created:
        base_url, name = _created.pop()
        asyncio.run(_execute(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


atexit.register(drop_created)
