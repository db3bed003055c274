"""Alembic migrations, driven programmatically (no alembic.ini to ship or find).

Alembic (with Mako, about 12 MB of modules) is imported only to upgrade a schema that is
behind. Knowing where a schema stands needs none of it: the store's revision is the row of
alembic's ``alembic_version`` table, and the newest revision is the highest-numbered script
in ``migrations/versions`` (each is named ``NNNN_what.py`` and declares ``revision = "NNNN"``,
a convention ``tests/store/test_revisions.py`` holds alembic's own answer to). So a server
whose store is current, or a readiness probe, never imports alembic; and ``relaygate serve``
upgrades a store that is behind in a child process (``upgrade_to_head_in_child``), so that
the process that goes on serving never does either (a fresh store's first start held 13 MB
more for the rest of its life).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.settings import Settings
from relaygate.store.database import create_engine

if TYPE_CHECKING:
    from alembic.config import Config

_SCRIPTS = Path(__file__).parent / "migrations"
_VERSIONS = _SCRIPTS / "versions"
_VERSION_TABLE = "alembic_version"  # alembic's default, which env.py keeps


class SchemaBehind(RuntimeError):
    """The database schema is older than this relaygate; `relaygate migrate` fixes it."""


class MigrationFailed(RuntimeError):
    """The child process upgrading the store failed (it printed why on stderr)."""


def _config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision this relaygate knows: its highest-numbered migration script."""
    numbers = [script.name.partition("_")[0] for script in _VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py")]
    return max(numbers, default=None)


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(_config(connection), "head")


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table(_VERSION_TABLE):
        return None
    revisions = connection.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalars().all()  # noqa: S608
    if len(revisions) > 1:
        raise RuntimeError(f"the store is at several revisions at once ({', '.join(revisions)})")
    return revisions[0] if revisions else None


async def upgrade_to_head(engine: AsyncEngine) -> None:
    if await current_revision(engine) == head_revision():
        return
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def upgrade_to_head_in_child(engine: AsyncEngine) -> None:
    """``upgrade_to_head``, by a child process (``python -m relaygate.store.migrate``) when
    the schema is behind: alembic's modules load there, not in this process. The child gets
    the engine's URL in its environment; whatever it prints goes to this process's stderr
    (a CLI's stdout may carry nothing but its answer, a key for instance)."""
    if await current_revision(engine) == head_revision():
        return
    url = engine.url.render_as_string(hide_password=False)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        env={**os.environ, "RELAYGATE_DATABASE_URL": url},
        stdout=2,  # this process's stderr
    )
    if await child.wait() != 0:
        raise MigrationFailed(
            f"upgrading the store failed (exit status {child.returncode}; its error is above)"
        )


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def ensure_current(engine: AsyncEngine) -> None:
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise SchemaBehind(
            f"the database schema is at revision {current or 'none'}, this relaygate needs {head}: "
            "run `relaygate migrate` first"
        )


async def _upgrade_configured_store() -> None:
    engine = create_engine(Settings.from_env())
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":  # the child of ``upgrade_to_head_in_child``
    asyncio.run(_upgrade_configured_store())
