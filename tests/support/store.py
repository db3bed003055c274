"""A migrated store of relaygate's own in a directory, with one workspace, for tests that
drive the store layer directly (no server)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.control.key_issuing import issue_key
from relaygate.settings import Settings
from relaygate.store import migrate, repository
from relaygate.store.database import create_engine

T = TypeVar("T")


async def with_workspace(
    home: Path, name: str, body: Callable[[AsyncEngine, str], Awaitable[T]], database_url: str = ""
) -> T:
    """Runs ``body(engine, workspace_id)`` on a fresh store in ``home`` (or at ``database_url``,
    an empty database); disposes of it after."""
    engine = create_engine(
        Settings.from_env({"RELAYGATE_HOME": str(home), "RELAYGATE_DATABASE_URL": database_url})
    )
    try:
        await migrate.upgrade_to_head(engine)
        workspace = await repository.create_workspace(engine, name)
        return await body(engine, workspace.id)
    finally:
        await engine.dispose()


async def add_workspace(settings: Settings, name: str) -> str:
    """What ``relaygate init --workspace NAME`` stores, in an existing store, without a
    Python start-up (about 2 s of CPU) per workspace: returns the admin key's secret."""
    engine = create_engine(settings)
    try:
        workspace = await repository.create_workspace(engine, name)
        _, secret = await issue_key(engine, workspace.id, role="admin", name="admin")
        return secret
    finally:
        await engine.dispose()
