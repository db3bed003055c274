"""A migrated store of relaygate's own in a directory, with one workspace, for tests that
drive the store layer directly (no server)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.settings import Settings
from relaygate.store import migrate, repository
from relaygate.store.database import create_engine

T = TypeVar("T")


async def with_workspace(home: Path, name: str, body: Callable[[AsyncEngine, str], Awaitable[T]]) -> T:
    """Runs ``body(engine, workspace_id)`` on a fresh store in ``home``; disposes of it after."""
    engine = create_engine(Settings.from_env({"RELAYGATE_HOME": str(home)}))
    try:
        await migrate.upgrade_to_head(engine)
        workspace = await repository.create_workspace(engine, name)
        return await body(engine, workspace.id)
    finally:
        await engine.dispose()
