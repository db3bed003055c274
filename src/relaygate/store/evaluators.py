"""Evaluators and their versions in the store.

The ``evaluators`` row holds the key and the current version's number; every change adds
an ``evaluator_versions`` row holding the whole definition, so history is never
rewritten and an experiment can score with the exact version it names. Every read and
write is scoped to one workspace. Evaluators are not part of the catalog (the data
plane never reads them), so writes do not bump its version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.deployments.ids import new_ulid
from relaygate.store import tables
from relaygate.store.id_pages import PageRequest, page_of, paged
from relaygate.store.records import utcnow
from relaygate.store.repository import DuplicateError, aware

EVALUATORS = tables.evaluators
VERSIONS = tables.evaluator_versions
_CURRENT: Select[Any] = (
    select(EVALUATORS, VERSIONS.c.id.label("version_id"), VERSIONS.c.content)
    .select_from(EVALUATORS)
    .join(
        VERSIONS, (VERSIONS.c.evaluator_id == EVALUATORS.c.id) & (VERSIONS.c.version == EVALUATORS.c.version)
    )
)


@dataclass(frozen=True)
class StoredEvaluator:
    """An evaluator at its current version."""

    id: str
    workspace_id: str
    key: str
    version: int
    version_id: str
    content: dict[str, Any]
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EvaluatorVersion:
    id: str
    evaluator_id: str
    version: int
    content: dict[str, Any]
    note: str | None
    created_by: str
    created_at: datetime


def _evaluator(row: Mapping[Any, Any]) -> StoredEvaluator:
    values = {name: row[name] for name in StoredEvaluator.__dataclass_fields__}
    values["created_at"], values["updated_at"] = aware(row["created_at"]), aware(row["updated_at"])
    return StoredEvaluator(**values)


def _version(row: Mapping[Any, Any]) -> EvaluatorVersion:
    values = {name: row[name] for name in EvaluatorVersion.__dataclass_fields__}
    values["created_at"] = aware(row["created_at"])
    return EvaluatorVersion(**values)


def _in_workspace(workspace_id: str, id_or_key: str) -> ColumnElement[bool]:
    """The evaluator with this id or key, in this workspace only."""
    named = (EVALUATORS.c.id == id_or_key) | (EVALUATORS.c.key == id_or_key)
    return (EVALUATORS.c.workspace_id == workspace_id) & named


def _duplicate(key: str) -> DuplicateError:
    return DuplicateError(f"an evaluator with the key {key!r} already exists in this workspace")


async def get_evaluator(engine: AsyncEngine, workspace_id: str, id_or_key: str) -> StoredEvaluator | None:
    async with engine.connect() as conn:
        row = (await conn.execute(_CURRENT.where(_in_workspace(workspace_id, id_or_key)))).mappings().first()
    return _evaluator(row) if row else None


async def list_evaluators(
    engine: AsyncEngine, workspace_id: str, page: PageRequest, *, search: str | None = None
) -> tuple[list[StoredEvaluator], bool]:
    query = _CURRENT.where(EVALUATORS.c.workspace_id == workspace_id)
    if search:
        query = query.where(func.lower(EVALUATORS.c.key).contains(search.lower(), autoescape=True))
    async with engine.connect() as conn:
        rows = (await conn.execute(paged(query, EVALUATORS.c.id, page))).mappings().all()
    kept, more = page_of(rows, page)
    return [_evaluator(row) for row in kept], more


async def create_evaluator(
    engine: AsyncEngine, workspace_id: str, key: str, content: dict[str, Any], by: str
) -> StoredEvaluator:
    now = utcnow()
    evaluator_id, version_id = new_ulid(), new_ulid()
    row: dict[str, Any] = {"id": evaluator_id, "workspace_id": workspace_id, "key": key, "version": 1}
    stamps: dict[str, Any] = {"created_by": by, "updated_by": by, "created_at": now, "updated_at": now}
    version = {"id": version_id, "evaluator_id": evaluator_id, "version": 1, "content": content}
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(EVALUATORS).values(**row, **stamps))
            await conn.execute(insert(VERSIONS).values(**version, note=None, created_by=by, created_at=now))
    except IntegrityError as exc:
        raise _duplicate(key) from exc
    return StoredEvaluator(**row, version_id=version_id, content=content, **stamps)


async def add_version(
    engine: AsyncEngine,
    current: StoredEvaluator,
    key: str,
    content: dict[str, Any],
    note: str | None,
    by: str,
) -> StoredEvaluator | None:
    """A new current version (and the key, if it changed); None when the evaluator is gone
    or another change made a version first."""
    now = utcnow()
    number = current.version + 1
    guard = (EVALUATORS.c.id == current.id) & (EVALUATORS.c.version == current.version)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(
                update(EVALUATORS).where(guard).values(key=key, version=number, updated_by=by, updated_at=now)
            )
            if not result.rowcount:
                return None
            await conn.execute(
                insert(VERSIONS).values(
                    id=new_ulid(),
                    evaluator_id=current.id,
                    version=number,
                    content=content,
                    note=note,
                    created_by=by,
                    created_at=now,
                )
            )
    except IntegrityError as exc:
        raise _duplicate(key) from exc
    return await get_evaluator(engine, current.workspace_id, current.id)


async def delete_evaluator(engine: AsyncEngine, workspace_id: str, evaluator_id: str) -> bool:
    where = _in_workspace(workspace_id, evaluator_id)
    async with engine.begin() as conn:
        found = await conn.scalar(select(EVALUATORS.c.id).where(where))
        if found is None:
            return False
        await conn.execute(delete(VERSIONS).where(VERSIONS.c.evaluator_id == found))
        await conn.execute(delete(EVALUATORS).where(EVALUATORS.c.id == found))
    return True


async def list_versions(
    engine: AsyncEngine, evaluator_id: str, page: PageRequest
) -> tuple[list[EvaluatorVersion], bool]:
    """One page of an evaluator's versions (the caller found the evaluator in its workspace)."""
    query = select(VERSIONS).where(VERSIONS.c.evaluator_id == evaluator_id)
    async with engine.connect() as conn:
        rows = (await conn.execute(paged(query, VERSIONS.c.id, page))).mappings().all()
    kept, more = page_of(rows, page)
    return [_version(row) for row in kept], more


async def get_version(engine: AsyncEngine, evaluator_id: str, version: str) -> EvaluatorVersion | None:
    """A version by its id or its number."""
    named = VERSIONS.c.id == version
    if version.isdigit():
        named = named | (VERSIONS.c.version == int(version))
    query = select(VERSIONS).where((VERSIONS.c.evaluator_id == evaluator_id) & named)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return _version(row) if row else None


# -- master-key rotation -------------------------------------------------------------------------


async def http_eval_versions(engine: AsyncEngine) -> list[tuple[str, str, dict[str, Any]]]:
    """``(version id, workspace id, content)`` of every stored ``http_eval`` version: their
    header values are sealed secrets."""
    query = select(VERSIONS.c.id, EVALUATORS.c.workspace_id, VERSIONS.c.content).join(
        EVALUATORS, EVALUATORS.c.id == VERSIONS.c.evaluator_id
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [(row.id, row.workspace_id, row.content) for row in rows if row.content.get("kind") == "http_eval"]


async def replace_version_content(engine: AsyncEngine, version_id: str, content: dict[str, Any]) -> None:
    """A version's content written again with the same meaning (its header values re-sealed);
    versions are otherwise never changed."""
    async with engine.begin() as conn:
        await conn.execute(update(VERSIONS).where(VERSIONS.c.id == version_id).values(content=content))
