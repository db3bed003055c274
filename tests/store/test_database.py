"""Which errors mean "the store is unreachable", with the driver's own only where it is used."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from relaygate.store.database import is_unavailable, unavailable_errors


def _errors_of(url: str) -> tuple[type[Exception], ...]:
    engine: AsyncEngine = create_async_engine(url)  # connects on first use: never here
    try:
        return unavailable_errors(engine)
    finally:
        asyncio.run(engine.dispose())


def test_asyncpgs_errors_are_the_store_being_down_only_on_asyncpg() -> None:
    on_sqlite = _errors_of("sqlite+aiosqlite:///:memory:")
    on_postgres = _errors_of("postgresql+asyncpg://relaygate@127.0.0.1:1/relaygate")
    assert asyncpg.PostgresError not in on_sqlite
    assert {asyncpg.PostgresError, asyncpg.InterfaceError} <= set(on_postgres)
    assert set(on_sqlite) < set(on_postgres)


def test_unreachable_looks_unreachable_and_a_refused_statement_does_not() -> None:
    assert is_unavailable(asyncpg.CannotConnectNowError("starting up"))
    assert is_unavailable(socket.gaierror("no such host"))
    assert is_unavailable(ConnectionRefusedError())
    assert not is_unavailable(ValueError("a bug"))
