"""Budgets and per-key limits in the store, and what a scope spent: the SQL of ``limits/``.

Writes bump the catalog version in the same transaction, as every control-plane write
does, so every process reloads its rules (``repository``). Spend is summed from the
stored usage events one query per workspace, scope and period start, grouped by subject:
seeding every budget ledger of a workspace costs a few queries, not one per budget.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import repository, tables
from relaygate.store.records import new_id, utcnow

# Subjects per ``IN (...)`` of one spend query: far below every driver's parameter limit.
_SUBJECTS_PER_QUERY = 500


@dataclass(frozen=True)
class Budget:
    id: str
    workspace_id: str
    scope: str
    subject_id: str | None
    amount_nano: int | None
    period: str | None
    requests_per_minute: int | None
    tokens_per_minute: int | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class KeyLimits:
    """An api key's own per-minute limits (set on the key, not as a budget row)."""

    key_id: str
    workspace_id: str
    requests_per_minute: int | None
    tokens_per_minute: int | None


def aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _budget(row: RowMapping) -> Budget:
    values = dict(row)
    for name in ("expires_at", "created_at", "updated_at"):
        values[name] = aware(values[name])
    return Budget(**values)


async def load_limits(engine: AsyncEngine) -> tuple[list[KeyLimits], list[Budget]]:
    """Every live key's own limits and every budget row, of every workspace."""
    keys = tables.api_keys
    async with engine.connect() as conn:
        key_rows = await conn.execute(
            select(keys.c.id, keys.c.workspace_id, keys.c.requests_per_minute, keys.c.tokens_per_minute)
            .where(keys.c.revoked_at.is_(None))
            .where(keys.c.requests_per_minute.is_not(None) | keys.c.tokens_per_minute.is_not(None))
        )
        limits = [
            KeyLimits(row.id, row.workspace_id, row.requests_per_minute, row.tokens_per_minute)
            for row in key_rows
        ]
        budget_rows = (await conn.execute(select(tables.budgets))).mappings().all()
    return limits, [_budget(row) for row in budget_rows]


# -- budgets ------------------------------------------------------------------------


async def list_budgets(
    engine: AsyncEngine, workspace_id: str, *, scope: str | None = None, subject_id: str | None = None
) -> list[Budget]:
    table = tables.budgets
    query = select(table).where(table.c.workspace_id == workspace_id).order_by(table.c.created_at)
    if scope is not None:
        query = query.where(table.c.scope == scope)
    if subject_id is not None:
        query = query.where(table.c.subject_id == subject_id)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [_budget(row) for row in rows]


async def get_budget(engine: AsyncEngine, workspace_id: str, budget_id: str) -> Budget | None:
    row = await repository.fetch_in_workspace(engine, tables.budgets, workspace_id, budget_id)
    return _budget(row) if row else None


async def insert_budget(engine: AsyncEngine, workspace_id: str, fields: dict[str, Any]) -> Budget:
    now = utcnow()
    values = {"id": new_id(), "workspace_id": workspace_id, "created_at": now, "updated_at": now, **fields}
    async with engine.begin() as conn:
        await conn.execute(insert(tables.budgets).values(**values))
        await repository._bump(conn)
    found = await get_budget(engine, workspace_id, values["id"])
    if found is None:
        raise RuntimeError(f"budget {values['id']} was deleted as it was created")
    return found


async def update_budget(
    engine: AsyncEngine, workspace_id: str, budget_id: str, fields: dict[str, Any]
) -> Budget | None:
    table = tables.budgets
    where = repository.in_workspace(table, workspace_id, budget_id)
    async with engine.begin() as conn:
        result = await conn.execute(update(table).where(where).values(**fields, updated_at=utcnow()))
        if result.rowcount:
            await repository._bump(conn)
    return await get_budget(engine, workspace_id, budget_id)


async def delete_budgets(
    engine: AsyncEngine,
    workspace_id: str,
    *,
    budget_id: str | None = None,
    scope: str | None = None,
    subject_id: str | None = None,
) -> int:
    table = tables.budgets
    where: ColumnElement[bool] = table.c.workspace_id == workspace_id
    if budget_id is not None:
        where = and_(where, table.c.id == budget_id)
    if scope is not None:
        where = and_(where, table.c.scope == scope, table.c.subject_id == subject_id)
    async with engine.begin() as conn:
        result = await conn.execute(delete(table).where(where))
        if result.rowcount:
            await repository._bump(conn)
    return int(result.rowcount)


# -- key limits ---------------------------------------------------------------------


async def set_key_limits(
    engine: AsyncEngine,
    workspace_id: str,
    key_id: str,
    requests_per_minute: int | None,
    tokens_per_minute: int | None,
) -> bool:
    table = tables.api_keys
    where = repository.in_workspace(table, workspace_id, key_id)
    async with engine.begin() as conn:
        result = await conn.execute(
            update(table)
            .where(where)
            .values(requests_per_minute=requests_per_minute, tokens_per_minute=tokens_per_minute)
        )
        if result.rowcount:
            await repository._bump(conn)
    return bool(result.rowcount)


async def key_limits(engine: AsyncEngine, workspace_id: str) -> dict[str, tuple[int | None, int | None]]:
    table = tables.api_keys
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(table.c.id, table.c.requests_per_minute, table.c.tokens_per_minute).where(
                table.c.workspace_id == workspace_id
            )
        )
        return {row.id: (row.requests_per_minute, row.tokens_per_minute) for row in rows}


# -- spend --------------------------------------------------------------------------

_EVENTS = tables.usage_events
_SUBJECT_COLUMNS = {"api_key": _EVENTS.c.api_key_id, "identity": _EVENTS.c.identity_id}


async def spent_by_subject(
    engine: AsyncEngine, workspace_id: str, scope: str, since: datetime, subjects: Collection[str]
) -> dict[str | None, int]:
    """What each of ``subjects`` (api key or identity ids) spent since ``since``, in nano-USD,
    from the stored events; subjects that spent nothing are left out. For the workspace
    scope, ``subjects`` is ignored and the one figure is under ``None``."""
    in_period = (_EVENTS.c.workspace_id == workspace_id) & (_EVENTS.c.created_at >= since)
    total = func.coalesce(func.sum(_EVENTS.c.cost_nano), 0)
    column = _SUBJECT_COLUMNS.get(scope)
    async with engine.connect() as conn:
        if column is None:
            return {None: int(await conn.scalar(select(total).where(in_period)) or 0)}
        ordered = sorted(subjects)
        spent: dict[str | None, int] = {}
        for start in range(0, len(ordered), _SUBJECTS_PER_QUERY):
            chunk = ordered[start : start + _SUBJECTS_PER_QUERY]
            rows = await conn.execute(
                select(column, total).where(in_period & column.in_(chunk)).group_by(column)
            )
            spent.update((subject, int(nano)) for subject, nano in rows)
        return spent


async def spent_nano(
    engine: AsyncEngine, workspace_id: str, scope: str, subject_id: str | None, since: datetime
) -> int:
    """What one scope spent since ``since``, from the stored events."""
    subjects = [subject_id] if subject_id is not None else []
    return (await spent_by_subject(engine, workspace_id, scope, since, subjects)).get(subject_id, 0)
