"""The async engine for SQLite (default) or PostgreSQL, configured for concurrent use.

The database driver is imported by SQLAlchemy when it creates the engine, so a process on
SQLite never imports asyncpg; this module names asyncpg's errors without importing it.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from relaygate.settings import Settings
from relaygate.store.data_folder import create_private_file, sqlite_file

_CONNECT_TIMEOUT_S = 5.0

# What "the store is unreachable" looks like: SQLAlchemy wraps errors raised by a
# statement, but asyncpg's connect raises its own (``_driver_errors``) and the socket's
# errors unwrapped.
_UNAVAILABLE: tuple[type[Exception], ...] = (DBAPIError, ConnectionError, TimeoutError, socket.gaierror)


def _driver_errors() -> tuple[type[Exception], ...]:
    """asyncpg's own errors once it is imported: before that none can have been raised."""
    asyncpg = sys.modules.get("asyncpg")
    return () if asyncpg is None else (asyncpg.PostgresError, asyncpg.InterfaceError)


def unavailable_errors(engine: AsyncEngine) -> tuple[type[Exception], ...]:
    """The exception classes that may mean ``engine``'s store is unreachable (to hand to
    ``is_unavailable``), asyncpg's among them when the engine connects through it."""
    return (*_UNAVAILABLE, *_driver_errors()) if engine.dialect.driver == "asyncpg" else _UNAVAILABLE


def is_unavailable(exc: BaseException) -> bool:
    """True for a store that cannot be reached; False for a statement the store refused."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    return isinstance(exc, (*_UNAVAILABLE, *_driver_errors()))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the server read while the CLI (another process) writes; busy_timeout
    # makes writers wait for each other instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        database = sqlite_file(settings.database_url)
        if database is not None and not database.exists():
            create_private_file(database)  # SQLite gives its -wal and -shm files the same mode
        engine = create_async_engine(settings.database_url, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # asyncpg waits 60 s for a connection by default: with the database down, control-plane
    # writes should fail fast (503) and the usage writer should retry, not hang.
    is_asyncpg = settings.database_url.startswith("postgresql+asyncpg")
    return create_async_engine(
        settings.database_url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"timeout": _CONNECT_TIMEOUT_S} if is_asyncpg else {},
    )


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the store (readiness checks); raises what the driver raises when it
    cannot be reached."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
