"""Reading deployments' current versions, for the catalog (writes: ``store/deployments.py``)."""

from __future__ import annotations

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.deployments.config import Release, release_of
from relaygate.store import tables
from relaygate.store.records import utcnow
from relaygate.store.repository import aware

_DEPLOYMENTS = tables.deployments
_VERSIONS = tables.deployment_versions
# Each deployment joined with its current version (the store's writes read it too).
CURRENT = (
    select(
        _DEPLOYMENTS.c.id,
        _DEPLOYMENTS.c.workspace_id,
        _DEPLOYMENTS.c.key,
        _DEPLOYMENTS.c.version,
        _DEPLOYMENTS.c.created_at,
        _DEPLOYMENTS.c.updated_at,
        _VERSIONS.c.id.label("version_id"),
        _VERSIONS.c.content,
    )
    .select_from(_DEPLOYMENTS)
    .join(
        _VERSIONS,
        (_VERSIONS.c.deployment_id == _DEPLOYMENTS.c.id) & (_VERSIONS.c.version == _DEPLOYMENTS.c.version),
    )
)


def _release(values: RowMapping) -> Release:
    content = values["content"]
    if not isinstance(content, dict):
        raise ValueError(f"deployment {values['id']} has a version whose content is not an object")
    return release_of(
        values["id"],
        values["workspace_id"],
        values["key"],
        int(values["version"]),
        values["version_id"],
        content,
        aware(values["updated_at"]) or utcnow(),
    )


async def current_releases(engine: AsyncEngine) -> list[Release]:
    """Every deployment's current version, as the data plane serves it."""
    async with engine.connect() as conn:
        rows = (await conn.execute(CURRENT)).mappings().all()
    return [_release(row) for row in rows]


async def find_release(engine: AsyncEngine, workspace_id: str, key: str) -> Release | None:
    """One deployment's current version (a key the catalog does not know yet)."""
    query = CURRENT.where((_DEPLOYMENTS.c.workspace_id == workspace_id) & (_DEPLOYMENTS.c.key == key))
    async with engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return _release(row) if row is not None else None
