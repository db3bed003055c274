"""A fresh PostgreSQL database for the store's tests (skipped when PostgreSQL is down)."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy.engine import make_url

from support import databases

POSTGRES_URL = databases.configured_url() or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def empty_postgres_database() -> str:
    url = make_url(POSTGRES_URL)
    try:
        socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=1).close()
    except OSError:
        pytest.skip(f"PostgreSQL is not running at {url.host}:{url.port} (scripts/test starts it)")
    return databases.create_database(POSTGRES_URL)
