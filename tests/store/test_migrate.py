"""Migrations on PostgreSQL: `relaygate migrate` applies them, `serve` refuses a schema behind."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from support import databases
from support.server import make_server

POSTGRES_URL = databases.configured_url() or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
VERSIONS = Path(__file__).parents[2] / "src" / "relaygate" / "store" / "migrations" / "versions"


@pytest.fixture
def empty_postgres_database() -> str:
    url = make_url(POSTGRES_URL)
    try:
        socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=1).close()
    except OSError:
        pytest.skip(f"PostgreSQL is not running at {url.host}:{url.port} (scripts/test starts it)")
    return databases.create_database(POSTGRES_URL)


def test_serve_refuses_a_schema_behind_until_migrate_ran(
    tmp_path: Path, empty_postgres_database: str
) -> None:
    server = make_server(tmp_path, RELAYGATE_DATABASE_URL=empty_postgres_database)
    refused = server.cli("serve", "--port", str(server.port), check=False)
    assert refused.returncode == 1
    assert "run `relaygate migrate` first" in refused.stderr
    assert "Traceback" not in refused.stderr

    head = max(path.name.split("_", 1)[0] for path in VERSIONS.glob("[0-9]*.py"))
    assert server.cli("migrate").stdout.strip() == f"database is at revision {head}"
    assert server.cli("migrate").stdout.strip() == f"database is at revision {head}", "idempotent"

    server.start()
    try:
        ready = server.api("GET", "/health/ready").json()
        assert ready["checks"]["migrations"] == "ok"
        assert ready["status"] == "ready"
    finally:
        server.stop()
