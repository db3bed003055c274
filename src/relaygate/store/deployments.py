"""Writes of deployments and their versions, and the reads the management API needs.

A deployment row holds what stays (its key, the number of its current version); every
change adds a ``deployment_versions`` row and moves the number, so history is never
rewritten and a rollback is one more version. Every write bumps ``catalog_state.version``
in its own transaction: that is how every process learns to serve the change. Ids are
ULIDs, so lists page newest first by id. (The catalog's reads: ``deployment_reads.py``.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.deployments.config import release_of
from relaygate.deployments.ids import new_ulid
from relaygate.store import repository, tables
from relaygate.store.deployment_reads import CURRENT
from relaygate.store.records import utcnow
from relaygate.store.repository import DuplicateError, aware

T = TypeVar("T")
_DEPLOYMENTS = tables.deployments
_VERSIONS = tables.deployment_versions


class StaleVersion(Exception):
    """Another writer made a new version since this one read the current one."""


@dataclass(frozen=True)
class Deployment:
    """A deployment with its current version's content."""

    id: str
    workspace_id: str
    key: str
    version: int
    version_id: str
    content: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DeploymentVersion:
    id: str
    deployment_id: str
    version: int
    content: dict[str, Any]
    note: str | None
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool  # more items lie further in the direction paged


def _deployment(row: RowMapping) -> Deployment:
    return Deployment(
        id=row["id"],
        workspace_id=row["workspace_id"],
        key=row["key"],
        version=int(row["version"]),
        version_id=row["version_id"],
        content=dict(row["content"]),
        created_at=aware(row["created_at"]) or utcnow(),
        updated_at=aware(row["updated_at"]) or utcnow(),
    )


def _version(row: RowMapping) -> DeploymentVersion:
    return DeploymentVersion(
        id=row["id"],
        deployment_id=row["deployment_id"],
        version=int(row["version"]),
        content=dict(row["content"]),
        note=row["note"],
        created_by=row["created_by"],
        created_at=aware(row["created_at"]) or utcnow(),
    )


def _version_row(
    deployment_id: str, number: int, content: Mapping[str, Any], note: str | None, created_by: str | None
) -> dict[str, Any]:
    return {
        "id": new_ulid(),
        "deployment_id": deployment_id,
        "version": number,
        "content": dict(content),
        "note": note,
        "created_by": created_by,
        "created_at": utcnow(),
    }


async def create(
    engine: AsyncEngine, workspace_id: str, key: str, content: Mapping[str, Any], created_by: str | None
) -> Deployment:
    """A new deployment and its version 1; ``DuplicateError`` when the workspace has the key."""
    now = utcnow()
    deployment_id = new_ulid()
    version = _version_row(deployment_id, 1, content, None, created_by)
    row = {"id": deployment_id, "workspace_id": workspace_id, "key": key, "version": 1}
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(_DEPLOYMENTS).values(**row, created_at=now, updated_at=now))
            await conn.execute(insert(_VERSIONS).values(**version))
            await repository._bump(conn)
    except IntegrityError as exc:
        raise DuplicateError(f"a deployment with key {key!r} already exists in this workspace") from exc
    return Deployment(deployment_id, workspace_id, key, 1, version["id"], dict(content), now, now)


async def add_version(
    engine: AsyncEngine,
    current: Deployment,
    content: Mapping[str, Any],
    *,
    note: str | None,
    created_by: str | None,
) -> Deployment:
    """``content`` as the version after ``current``'s; ``StaleVersion`` if another came first."""
    number = current.version + 1
    version = _version_row(current.id, number, content, note, created_by)
    now = version["created_at"]
    try:
        async with engine.begin() as conn:
            moved = await conn.execute(
                update(_DEPLOYMENTS)
                .where((_DEPLOYMENTS.c.id == current.id) & (_DEPLOYMENTS.c.version == current.version))
                .values(version=number, updated_at=now)
            )
            if not moved.rowcount:
                raise StaleVersion(current.key)
            await conn.execute(insert(_VERSIONS).values(**version))
            await repository._bump(conn)
    except IntegrityError as exc:
        raise StaleVersion(current.key) from exc
    return Deployment(
        current.id,
        current.workspace_id,
        current.key,
        number,
        version["id"],
        dict(content),
        current.created_at,
        now,
    )


async def get(engine: AsyncEngine, workspace_id: str, key_or_id: str) -> Deployment | None:
    """The workspace's deployment with this key, else with this id (another workspace's: None)."""
    in_workspace = _DEPLOYMENTS.c.workspace_id == workspace_id
    async with engine.connect() as conn:
        for column in (_DEPLOYMENTS.c.key, _DEPLOYMENTS.c.id):
            row = (await conn.execute(CURRENT.where(in_workspace & (column == key_or_id)))).mappings().first()
            if row is not None:
                return _deployment(row)
    return None


async def delete_deployment(engine: AsyncEngine, workspace_id: str, deployment_id: str) -> bool:
    """The deployment and all its versions (SQLite may not enforce the cascade, so both)."""
    async with engine.begin() as conn:
        owned = _DEPLOYMENTS.c.id == deployment_id
        found = await conn.scalar(
            select(_DEPLOYMENTS.c.id).where(owned & (_DEPLOYMENTS.c.workspace_id == workspace_id))
        )
        if found is None:
            return False
        await conn.execute(delete(_VERSIONS).where(_VERSIONS.c.deployment_id == deployment_id))
        await conn.execute(delete(_DEPLOYMENTS).where(owned))
        await repository._bump(conn)
    return True


async def list_page(
    engine: AsyncEngine, workspace_id: str, limit: int, *, after: str | None = None, before: str | None = None
) -> Page[Deployment]:
    """One page of the workspace's deployments, newest first: those after the id ``after``
    (older), or those before the id ``before`` (newer), or the newest."""
    query = CURRENT.where(_DEPLOYMENTS.c.workspace_id == workspace_id)
    if before is not None:
        query = query.where(_DEPLOYMENTS.c.id > before).order_by(_DEPLOYMENTS.c.id.asc())
    else:
        if after is not None:
            query = query.where(_DEPLOYMENTS.c.id < after)
        query = query.order_by(_DEPLOYMENTS.c.id.desc())
    async with engine.connect() as conn:
        rows = (await conn.execute(query.limit(limit + 1))).mappings().all()
    items = [_deployment(row) for row in rows[:limit]]
    if before is not None:
        items.reverse()
    return Page(items, len(rows) > limit)


async def get_version(engine: AsyncEngine, deployment_id: str, number: int) -> DeploymentVersion | None:
    query = select(_VERSIONS).where(
        (_VERSIONS.c.deployment_id == deployment_id) & (_VERSIONS.c.version == number)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return _version(row) if row is not None else None


async def version_number(engine: AsyncEngine, deployment_id: str, version_id: str) -> int | None:
    """The number of the deployment's version with this id (a page cursor); None if none."""
    query = select(_VERSIONS.c.version).where(
        (_VERSIONS.c.deployment_id == deployment_id) & (_VERSIONS.c.id == version_id)
    )
    async with engine.connect() as conn:
        number = await conn.scalar(query)
    return int(number) if number is not None else None


async def versions_page(
    engine: AsyncEngine,
    deployment_id: str,
    limit: int,
    *,
    after: int | None = None,
    before: int | None = None,
    keep: Callable[[DeploymentVersion], bool] | None = None,
) -> Page[DeploymentVersion]:
    """One page of the deployment's versions, newest first: those older than number ``after``,
    or newer than number ``before``, or the newest; only those ``keep`` accepts. Read in
    batches until the page is full, so a filter that skips many costs more reads, not more memory."""
    newer = before is not None
    cursor = before if newer else after
    found: list[DeploymentVersion] = []
    async with engine.connect() as conn:
        while len(found) <= limit:
            query = select(_VERSIONS).where(_VERSIONS.c.deployment_id == deployment_id)
            if cursor is not None:
                query = query.where(_VERSIONS.c.version > cursor if newer else _VERSIONS.c.version < cursor)
            order = _VERSIONS.c.version.asc() if newer else _VERSIONS.c.version.desc()
            rows = (await conn.execute(query.order_by(order).limit(limit + 1))).mappings().all()
            for row in rows:
                version = _version(row)
                cursor = version.version
                if keep is None or keep(version):
                    found.append(version)
            if len(rows) <= limit:
                break
    items = found[:limit]
    if newer:
        items.reverse()
    return Page(items, len(found) > limit)


async def keys_using(engine: AsyncEngine, workspace_id: str, router_id: str) -> list[str]:
    """The keys of the workspace's deployments whose current version may call ``router_id``
    (as its model, a variant's model or a fallback)."""
    query = CURRENT.where(_DEPLOYMENTS.c.workspace_id == workspace_id).order_by(_DEPLOYMENTS.c.key)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    keys = []
    for row in rows:
        deployment = _deployment(row)
        release = release_of(
            deployment.id,
            workspace_id,
            deployment.key,
            deployment.version,
            deployment.version_id,
            deployment.content,
            deployment.updated_at,
        )
        if router_id in release.models:
            keys.append(deployment.key)
    return keys
