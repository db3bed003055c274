"""Migrations on PostgreSQL: `relaygate migrate` applies them, `serve` refuses a schema behind."""

from __future__ import annotations

from pathlib import Path

from support.server import make_server

VERSIONS = Path(__file__).parents[2] / "src" / "relaygate" / "store" / "migrations" / "versions"


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
