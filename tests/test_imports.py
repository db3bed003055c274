"""A worker imports only what its configuration uses (issue 22: one idle worker <= 110 MB).

The offline tokenizer (bpe-openai: its tables alone hold 50-120 MB), redis-py (20 MB),
alembic (12 MB), the OpenTelemetry SDK and exporter, asyncpg and granian are each needed by
some configurations only. A module list, not an RSS threshold: RSS is a benchmark figure
(``bench/``), and a module that comes back is the regression to catch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.server import make_server

# Imported only by the configurations that need them, none of which is the default one.
UNUSED_BY_DEFAULT = (
    "bpe_openai",  # an upstream that reports no usage: loaded at the first estimate
    "redis",  # RELAYGATE_REDIS_URL
    "asyncpg",  # a PostgreSQL store
    "psycopg",
    "granian",  # relaygate serve --server granian
    "opentelemetry.sdk",  # OTEL_EXPORTER_OTLP_ENDPOINT (FastAPI imports the API alone)
    "opentelemetry.exporter",
    "alembic",  # upgrading a store that is behind: a child process does it (store/migrate.py)
)

# ``relaygate serve`` in this interpreter; once the server is ready, a thread writes the
# names of the modules imported (into the file named by argv[2]) and stops the server.
_SERVE_AND_LIST = """
import json, os, signal, sys, threading, time, urllib.request
from relaygate.cli import main

def list_modules_when_ready() -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health/ready", timeout=1):
                break
        except OSError:
            time.sleep(0.05)
    with open(sys.argv[2], "w") as listing:
        json.dump(sorted(sys.modules), listing)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=list_modules_when_ready, daemon=True).start()
sys.exit(main(["serve", "--port", sys.argv[1]]))
"""


def _imported_by(modules: list[str], package: str) -> list[str]:
    return [name for name in modules if name == package or name.startswith(package + ".")]


def test_a_default_server_imports_none_of_what_other_configurations_need(tmp_path: Path) -> None:
    # A fresh SQLite store, uvicorn, no Redis, no traces, whatever the suite's run is set up with.
    unset = ("RELAYGATE_DATABASE_URL", "RELAYGATE_REDIS_URL", "RELAYGATE_SERVER")
    server = make_server(
        tmp_path / "home",
        **dict.fromkeys(unset, ""),
        OTEL_EXPORTER_OTLP_ENDPOINT="",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="",
    )
    listing = tmp_path / "modules.json"
    served = subprocess.run(
        [sys.executable, "-c", _SERVE_AND_LIST, str(server.port), str(listing)],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert listing.exists(), f"the server never became ready:\n{served.stderr}"
    modules: list[str] = json.loads(listing.read_text())
    assert "relaygate.router.app" in modules, "the server did not load relaygate"
    found = {package: _imported_by(modules, package)[:3] for package in UNUSED_BY_DEFAULT}
    assert {package: names for package, names in found.items() if names} == {}


_REDIS_ON_DEMAND = """
import sys
from relaygate.cluster.redis_link import open_client, redis_failures
import relaygate.app

assert "redis" not in sys.modules, "importing relaygate imported redis"
assert redis_failures() == (OSError,)
open_client("redis://127.0.0.1:1")  # connects on its first command: none is sent
from redis.exceptions import RedisError
assert redis_failures() == (RedisError, OSError)
"""


def test_redis_is_imported_by_the_first_client_and_its_errors_are_caught_from_then_on() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _REDIS_ON_DEMAND], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


# The SQLite usage writer is a child process of every server process (two under load): it
# needs sqlite3, pickle and orjson. SQLAlchemy took it from 16 MB RSS to 46 (bench/README.md).
_WRITER_NEEDS_NONE_OF = ("sqlalchemy", "asyncio", "pydantic")


def test_the_sqlite_usage_writer_process_imports_no_sqlalchemy() -> None:
    script = f"""
import sys
import relaygate.store.sqlite_usage_writer
print(sorted(name for name in sys.modules if name.split(".")[0] in {_WRITER_NEEDS_NONE_OF!r}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
