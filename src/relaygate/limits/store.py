"""Reads and writes of budgets and key limits, and what a scope has spent.

Writes bump the catalog version in the same transaction, as every control-plane write
does, so every process reloads its rules (see ``repository``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.limits.rules import Rule, period_start
from relaygate.store import repository, tables
from relaygate.store.records import new_id, utcnow


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

    def rule(self) -> Rule:
        return Rule(
            id=self.id,
            workspace_id=self.workspace_id,
            scope=self.scope,
            subject_id=self.subject_id,
            requests_per_minute=self.requests_per_minute,
            tokens_per_minute=self.tokens_per_minute,
            amount_nano=self.amount_nano,
            period=self.period if self.amount_nano is not None else None,
            expires_at=self.expires_at.timestamp() if self.expires_at else None,
        )


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _budget(row: RowMapping) -> Budget:
    values = dict(row)
    for name in ("expires_at", "created_at", "updated_at"):
        values[name] = _aware(values[name])
    return Budget(**values)


def _key_rule(row: RowMapping) -> Rule:
    return Rule(
        id=f"key:{row['id']}",
        workspace_id=row["workspace_id"],
        scope="api_key",
        subject_id=row["id"],
        requests_per_minute=row["requests_per_minute"],
        tokens_per_minute=row["tokens_per_minute"],
    )


async def load_rules(engine: AsyncEngine) -> list[Rule]:
    keys = tables.api_keys
    async with engine.connect() as conn:
        key_rows = (
            await conn.execute(
                select(keys.c.id, keys.c.workspace_id, keys.c.requests_per_minute, keys.c.tokens_per_minute)
                .where(keys.c.revoked_at.is_(None))
                .where(keys.c.requests_per_minute.is_not(None) | keys.c.tokens_per_minute.is_not(None))
            )
        ).mappings()
        rules = [_key_rule(row) for row in key_rows]
        budget_rows = (await conn.execute(select(tables.budgets))).mappings().all()
    return rules + [_budget(row).rule() for row in budget_rows]


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


def _scope_filter(workspace_id: str, scope: str, subject_id: str | None) -> ColumnElement[bool]:
    events = tables.usage_events
    where: ColumnElement[bool] = events.c.workspace_id == workspace_id
    if scope == "api_key":
        where = and_(where, events.c.api_key_id == subject_id)
    elif scope == "identity":
        where = and_(where, events.c.identity_id == subject_id)
    return where


async def spent_nano(
    engine: AsyncEngine,
    workspace_id: str,
    scope: str,
    subject_id: str | None,
    period: str,
    now: datetime | None = None,
) -> int:
    """What the scope has spent in the current period, from the stored events."""
    events = tables.usage_events
    since = period_start(period, now or utcnow())
    query = select(func.coalesce(func.sum(events.c.cost_nano), 0)).where(
        _scope_filter(workspace_id, scope, subject_id) & (events.c.created_at >= since)
    )
    async with engine.connect() as conn:
        return int(await conn.scalar(query) or 0)
